// Ticket keys shared by file (TicketKeys::ParseKeyFile, LoadFiles, FromFiles): contexts of
// "different servers" loading one file open each other's tickets; rotation by rewriting
// the file and reloading; nginx's raw 48- and 80-byte key files; bad files are clear errors
// that change nothing. Pair tests: no sockets.
#include <gtest/gtest.h>
#include <openssl/base64.h>
#include <openssl/rand.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "tests/lifecycle/lifecycle_test_util.h"

namespace sansio_tls {
namespace {

using namespace lifecycle_test;  // NOLINT

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/" + name;
}

void WriteFile(const std::string& path, std::string_view content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  ASSERT_TRUE(out.good()) << path;
}

std::string RandomBytes(size_t n) {
  std::string s(n, '\0');
  RAND_bytes(reinterpret_cast<uint8_t*>(s.data()), n);
  return s;
}

std::string Base64(std::string_view raw) {
  size_t len = 0;
  EVP_EncodedLength(&len, raw.size());
  std::string out(len, '\0');
  size_t n = EVP_EncodeBlock(reinterpret_cast<uint8_t*>(out.data()),
                             reinterpret_cast<const uint8_t*>(raw.data()), raw.size());
  out.resize(n);
  return out;
}

// A fresh base64 key line (48 bytes unless |bytes| says otherwise).
std::string KeyLine(size_t bytes = 48) { return Base64(RandomBytes(bytes)) + "\n"; }

// A server Context of its own (as in another process) whose ring is loaded from |paths|.
std::shared_ptr<const Context> ServerFrom(TlsVersion v, std::vector<std::string> paths,
                                          std::shared_ptr<TicketKeys>* out_keys = nullptr) {
  auto keys = TicketKeys::FromFiles(paths);
  EXPECT_TRUE(keys.ok()) << (keys.ok() ? "" : keys.error().message);
  if (!keys.ok()) return nullptr;
  if (out_keys) *out_keys = *keys;
  return Server(v, [&](auto& o) {
    o.ticket_keys = *keys;
    o.session_cache = SessionCacheMode::kOff;  // tickets only: nothing else is shared
  });
}

std::optional<SavedSession> SaveSession(const std::shared_ptr<const Context>& client,
                                        const std::shared_ptr<const Context>& server,
                                        int64_t time = Now()) {
  auto pair = Connect(client, server, time);
  if (!pair) return std::nullopt;
  std::vector<SavedSession> saved = NewSessions(*pair, Side::kClient);
  EXPECT_FALSE(saved.empty()) << Summary(*pair);
  if (saved.empty()) return std::nullopt;
  return saved.front();
}

bool Resumes(const std::shared_ptr<const Context>& client,
             const std::shared_ptr<const Context>& server, const SavedSession& saved,
             int64_t time) {
  auto pair = Connect(client, server, time, saved);
  if (!pair) return false;
  EXPECT_TRUE(pair->client().authorized()) << Summary(*pair);
  return pair->client().handshake_info().session_reused &&
         pair->server().handshake_info().session_reused;
}

class TicketKeyFile : public ::testing::TestWithParam<TlsVersion> {};

TEST_P(TicketKeyFile, ATicketIssuedByOneServerResumesOnAnotherLoadedFromTheSameFile) {
  std::string path = TempPath("shared.keys");
  WriteFile(path, "# fleet ticket keys\n\n" + KeyLine() + KeyLine(80));
  auto a = ServerFrom(GetParam(), {path});
  auto b = ServerFrom(GetParam(), {path});
  auto stranger = Server(GetParam(), [](auto& o) { o.session_cache = SessionCacheMode::kOff; });
  auto client = Client(GetParam());
  auto saved = SaveSession(client, a);
  ASSERT_TRUE(saved);
  ASSERT_TRUE(saved->has_ticket());
  EXPECT_TRUE(Resumes(client, b, *saved, Now() + 1));
  EXPECT_FALSE(Resumes(client, stranger, *saved, Now() + 1));  // its own random keys
}

TEST_P(TicketKeyFile, AfterRotationOldTicketsResumeWhileTheirKeyIsInTheFileAndNotAfter) {
  std::string path = TempPath("rotating.keys");
  std::string k1 = KeyLine(), k2 = KeyLine(), k3 = KeyLine();
  WriteFile(path, k1);
  std::shared_ptr<TicketKeys> keys_a, keys_b;
  auto a = ServerFrom(GetParam(), {path}, &keys_a);
  auto b = ServerFrom(GetParam(), {path}, &keys_b);
  auto client = Client(GetParam());
  auto under_k1 = SaveSession(client, a);
  ASSERT_TRUE(under_k1);

  // The operator rotates: a new key first, the previous one kept for decryption.
  WriteFile(path, k2 + k1);
  ASSERT_FALSE(keys_a->LoadFiles(std::vector<std::string>{path}).has_value());
  ASSERT_FALSE(keys_b->LoadFiles(std::vector<std::string>{path}).has_value());
  EXPECT_EQ(keys_b->Get().size(), 2u);
  EXPECT_TRUE(Resumes(client, b, *under_k1, Now() + 1));
  auto under_k2 = SaveSession(client, b, Now() + 1);  // sealed by k2 now
  ASSERT_TRUE(under_k2);
  EXPECT_TRUE(Resumes(client, a, *under_k2, Now() + 2));

  // k1 leaves the file: its tickets no longer resume anywhere; k2's still do.
  WriteFile(path, k3 + k2);
  ASSERT_FALSE(keys_a->LoadFiles(std::vector<std::string>{path}).has_value());
  ASSERT_FALSE(keys_b->LoadFiles(std::vector<std::string>{path}).has_value());
  EXPECT_FALSE(Resumes(client, a, *under_k1, Now() + 3));
  EXPECT_FALSE(Resumes(client, b, *under_k1, Now() + 3));
  EXPECT_TRUE(Resumes(client, a, *under_k2, Now() + 3));
}

TEST_P(TicketKeyFile, NginxRawKeyFilesOfFortyEightAndEightyBytesAreAccepted) {
  for (size_t size : {48u, 80u}) {
    std::string path = TempPath("nginx" + std::to_string(size) + ".key");
    std::string raw = RandomBytes(size);
    raw[0] = '\x01';  // surely not text
    WriteFile(path, raw);
    auto a = ServerFrom(GetParam(), {path});
    auto b = ServerFrom(GetParam(), {path});
    auto client = Client(GetParam());
    auto saved = SaveSession(client, a);
    ASSERT_TRUE(saved);
    EXPECT_TRUE(Resumes(client, b, *saved, Now() + 1)) << size;
  }
}

TEST_P(TicketKeyFile, SeveralFilesMakeOneRingAndTheFirstFileSeals) {
  std::string current = TempPath("current.key"), previous = TempPath("previous.key");
  WriteFile(current, KeyLine());
  WriteFile(previous, KeyLine());
  auto old_server = ServerFrom(GetParam(), {previous});
  auto new_server = ServerFrom(GetParam(), {current, previous});  // nginx order
  auto only_current = ServerFrom(GetParam(), {current});
  auto client = Client(GetParam());
  auto old_ticket = SaveSession(client, old_server);
  ASSERT_TRUE(old_ticket);
  EXPECT_TRUE(Resumes(client, new_server, *old_ticket, Now() + 1));
  auto new_ticket = SaveSession(client, new_server, Now() + 1);
  ASSERT_TRUE(new_ticket);
  EXPECT_TRUE(Resumes(client, only_current, *new_ticket, Now() + 2));
  EXPECT_FALSE(Resumes(client, old_server, *new_ticket, Now() + 2));
}

INSTANTIATE_TEST_SUITE_P(Versions, TicketKeyFile,
                         ::testing::Values(TlsVersion::kTls13, TlsVersion::kTls12),
                         [](const auto& info) {
                           return info.param == TlsVersion::kTls13 ? "Tls13" : "Tls12";
                         });

TEST(TicketKeyFileFormat, TheTextFormatAndNginxFilesParse) {
  std::string raw48 = RandomBytes(48);
  std::string text = "# comment\r\n\n  " + Base64(raw48) + "  \r\n";
  auto keys = TicketKeys::ParseKeyFile(Bytes(text));
  ASSERT_TRUE(keys.ok()) << keys.error().message;
  ASSERT_EQ(keys->size(), 1u);
  EXPECT_EQ(std::string(keys->front().begin(), keys->front().end()), raw48);

  std::string unpadded = Base64(RandomBytes(80));
  while (unpadded.back() == '=') unpadded.pop_back();
  auto long_key = TicketKeys::ParseKeyFile(Bytes(unpadded));
  ASSERT_TRUE(long_key.ok()) << long_key.error().message;

  // An 80-byte key keeps its name; its secret is derived, the same everywhere.
  std::string raw80 = RandomBytes(80);
  raw80[0] = '\x02';
  auto once = TicketKeys::ParseKeyFile(Bytes(raw80));
  auto twice = TicketKeys::ParseKeyFile(Bytes(Base64(raw80)));
  ASSERT_TRUE(once.ok() && twice.ok());
  EXPECT_EQ(once->front(), twice->front());
  EXPECT_EQ(std::string(once->front().begin(), once->front().begin() + 16), raw80.substr(0, 16));
  EXPECT_NE(std::string(once->front().begin() + 16, once->front().end()), raw80.substr(16, 32));
}

TEST(TicketKeyFileFormat, BadFilesAreClearErrorsAndChangeNothing) {
  struct Case {
    std::string name, content, message_part;
  };
  std::string binary = RandomBytes(47);
  binary[0] = '\x01';
  std::string dup = KeyLine();
  std::vector<Case> cases = {
      {"empty", "", "is empty"},
      {"comments", "# nothing\n\n", "holds no key"},
      {"short", "# first\n" + KeyLine(32), "line 2: a key is 48 or 80 bytes, this one is 32"},
      {"notbase64", KeyLine() + "not*base64!\n", "line 2: not valid base64"},
      {"binary", binary, "neither a text key file nor a 48- or 80-byte raw key (47 bytes)"},
      {"duplicate", dup + dup, "same name"},
  };
  auto keys = TicketKeys::Create();
  std::vector<TicketKeys::Key> before = keys->Get();
  for (const Case& c : cases) {
    std::string path = TempPath("bad-" + c.name + ".keys");
    WriteFile(path, c.content);
    std::optional<Error> error = keys->LoadFiles(std::vector<std::string>{path});
    ASSERT_TRUE(error.has_value()) << c.name;
    EXPECT_EQ(error->code, "ERR_TLS_INVALID_TICKET_KEYS") << c.name;
    EXPECT_NE(error->message.find(c.message_part), std::string::npos)
        << c.name << ": " << error->message;
    if (c.name != "duplicate") {
      EXPECT_NE(error->message.find(path), std::string::npos) << error->message;
    }
    EXPECT_EQ(keys->Get(), before) << c.name;
  }
  std::optional<Error> missing =
      keys->LoadFiles(std::vector<std::string>{TempPath("does-not-exist.keys")});
  ASSERT_TRUE(missing.has_value());
  EXPECT_NE(missing->message.find("cannot open"), std::string::npos) << missing->message;
  EXPECT_FALSE(TicketKeys::FromFiles(std::vector<std::string>{TempPath("nope")}).ok());
  EXPECT_TRUE(keys->LoadFiles({}).has_value());
  EXPECT_EQ(keys->Get(), before);
}

}  // namespace
}  // namespace sansio_tls
