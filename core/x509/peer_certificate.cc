#include "core/x509/peer_certificate.h"

#include <openssl/asn1.h>
#include <openssl/base64.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/bytestring.h>
#include <openssl/ec.h>
#include <openssl/ec_key.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <openssl/nid.h>
#include <openssl/obj.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <climits>
#include <cstdio>

namespace sansio_tls {
namespace {

constexpr char kUpperHex[] = "0123456789ABCDEF";
constexpr char kLowerHex[] = "0123456789abcdef";

// Clears BoringSSL's thread-local error queue on scope exit, like Node's
// ClearErrorOnReturn: parsing failures must not leak errors to later calls.
struct ClearErrors {
  ~ClearErrors() { ERR_clear_error(); }
};

// Owners for the stack types X509V3_EXT_d2i returns.
struct FreeGeneralNames {
  void operator()(GENERAL_NAMES* p) const { sk_GENERAL_NAME_pop_free(p, GENERAL_NAME_free); }
};
struct FreeInfoAccess {
  void operator()(AUTHORITY_INFO_ACCESS* p) const {
    sk_ACCESS_DESCRIPTION_pop_free(p, ACCESS_DESCRIPTION_free);
  }
};
struct FreeObjects {
  void operator()(EXTENDED_KEY_USAGE* p) const { sk_ASN1_OBJECT_pop_free(p, ASN1_OBJECT_free); }
};

std::string_view AsView(const ASN1_STRING* s) {
  if (s == nullptr) return {};
  const int len = ASN1_STRING_length(s);
  if (len <= 0) return {};
  return {reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), static_cast<size_t>(len)};
}

// OBJ_obj2txt into a std::string, any length.
std::string ObjText(const ASN1_OBJECT* obj, bool numeric) {
  if (obj == nullptr) return {};
  char buf[128];
  int n = OBJ_obj2txt(buf, sizeof(buf), obj, numeric ? 1 : 0);
  if (n <= 0) return {};
  if (static_cast<size_t>(n) < sizeof(buf)) return std::string(buf, n);
  std::string big(static_cast<size_t>(n) + 1, '\0');
  n = OBJ_obj2txt(big.data(), static_cast<int>(big.size()), obj, numeric ? 1 : 0);
  if (n <= 0) return {};
  big.resize(std::min(static_cast<size_t>(n), big.size() - 1));
  return big;
}

std::string BioContents(BIO* bio) {
  const uint8_t* data = nullptr;
  size_t len = 0;
  if (!BIO_mem_contents(bio, &data, &len) || data == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(data), len);
}

std::string HexUpper(std::span<const uint8_t> bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (uint8_t b : bytes) {
    out.push_back(kUpperHex[b >> 4]);
    out.push_back(kUpperHex[b & 0xf]);
  }
  return out;
}

std::string Fingerprint(std::span<const uint8_t> md) {
  std::string out;
  if (md.empty()) return out;
  out.reserve(md.size() * 3);
  for (size_t i = 0; i < md.size(); ++i) {
    if (i != 0) out.push_back(':');
    out.push_back(kUpperHex[md[i] >> 4]);
    out.push_back(kUpperHex[md[i] & 0xf]);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Distinguished names.

// Short names OpenSSL 3 knows for attributes that BoringSSL's object table
// lacks, so keys match Node's.
struct ExtraName {
  std::string_view oid;
  std::string_view name;
};
constexpr ExtraName kExtraNames[] = {
    {"1.3.6.1.4.1.311.60.2.1.1", "jurisdictionL"},
    {"1.3.6.1.4.1.311.60.2.1.2", "jurisdictionST"},
    {"1.3.6.1.4.1.311.60.2.1.3", "jurisdictionC"},
    {"2.5.4.97", "organizationIdentifier"},
    {"2.5.4.15", "businessCategory"},
    {"2.5.4.16", "postalAddress"},
    {"2.5.4.17", "postalCode"},
    {"2.5.4.18", "postOfficeBox"},
    {"2.5.4.9", "street"},
    {"2.5.4.72", "role"},
    {"2.5.4.65", "pseudonym"},
    {"2.5.4.13", "description"},
    {"2.5.4.45", "x500UniqueIdentifier"},
    {"2.5.4.44", "generationQualifier"},
    {"2.5.4.46", "dnQualifier"},
    {"2.5.4.43", "initials"},
    {"2.5.4.42", "GN"},
    {"2.5.4.4", "SN"},
    {"2.5.4.12", "title"},
    {"2.5.4.5", "serialNumber"},
    {"0.9.2342.19200300.100.1.1", "UID"},
    {"0.9.2342.19200300.100.1.25", "DC"},
};

std::string AttributeKey(const ASN1_OBJECT* obj) {
  const int nid = OBJ_obj2nid(obj);
  if (nid != NID_undef) {
    if (const char* sn = OBJ_nid2sn(nid); sn != nullptr && *sn != '\0') return sn;
  }
  std::string oid = ObjText(obj, /*numeric=*/true);
  for (const ExtraName& e : kExtraNames) {
    if (e.oid == oid) return std::string(e.name);
  }
  if (nid != NID_undef) {
    if (const char* ln = OBJ_nid2ln(nid); ln != nullptr && *ln != '\0') return ln;
  }
  return oid;
}

// ---------------------------------------------------------------------------
// General names, printed like Node's PrintGeneralName.

bool IsSafeAltName(std::string_view name, bool utf8) {
  for (char c : name) {
    switch (c) {
      case '"':
      case '\\':
      case ',':
      case '\'':
        return false;
      default:
        if (utf8) {
          if (static_cast<unsigned char>(c) < ' ' || c == '\x7f') return false;
        } else {
          const auto u = static_cast<unsigned char>(c);
          if (u < ' ' || u > '~') return false;
        }
    }
  }
  return true;
}

void PrintAltName(std::string& out, std::string_view name, bool utf8, const char* safe_prefix) {
  if (IsSafeAltName(name, utf8)) {
    if (safe_prefix != nullptr) {
      out += safe_prefix;
      out += ':';
    }
    out += name;
    return;
  }
  out += '"';
  if (safe_prefix != nullptr) {
    out += safe_prefix;
    out += ':';
  }
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if ((u >= ' ' && c != ',' && u <= '~') || (utf8 && (u & 0x80))) {
      out += c;
    } else {
      out += "\\u00";
      out += kLowerHex[u >> 4];
      out += kLowerHex[u & 0xf];
    }
  }
  out += '"';
}

// X509_NAME_print_ex flags Node uses for DirName entries.
constexpr unsigned long kRfc2253WithinUtf8Json =
    XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB & ~ASN1_STRFLGS_ESC_CTRL;

const char* OtherNamePrefix(const ASN1_OBJECT* type_id, bool* unicode) {
  *unicode = true;
  const std::string oid = ObjText(type_id, /*numeric=*/true);
  if (oid == "1.3.6.1.5.5.7.8.9") return "SmtpUTF8Mailbox";
  if (oid == "1.3.6.1.5.5.7.8.5") return "XmppAddr";
  if (oid == "1.3.6.1.5.5.7.8.7") {
    *unicode = false;
    return "SRVName";
  }
  if (oid == "1.3.6.1.4.1.311.20.2.3") return "UPN";
  if (oid == "1.3.6.1.5.5.7.8.8") return "NAIRealm";
  return nullptr;
}

bool PrintGeneralName(std::string& out, const GENERAL_NAME* gen) {
  if (gen == nullptr) return false;
  switch (gen->type) {
    case GEN_DNS:
      out += "DNS:";
      PrintAltName(out, AsView(gen->d.dNSName), false, nullptr);
      return true;
    case GEN_EMAIL:
      out += "email:";
      PrintAltName(out, AsView(gen->d.rfc822Name), false, nullptr);
      return true;
    case GEN_URI:
      out += "URI:";
      PrintAltName(out, AsView(gen->d.uniformResourceIdentifier), false, nullptr);
      return true;
    case GEN_DIRNAME: {
      out += "DirName:";
      bssl::UniquePtr<BIO> tmp(BIO_new(BIO_s_mem()));
      if (!tmp) return false;
      if (X509_NAME_print_ex(tmp.get(), gen->d.directoryName, 0, kRfc2253WithinUtf8Json) < 0) {
        return false;
      }
      PrintAltName(out, BioContents(tmp.get()), true, nullptr);
      return true;
    }
    case GEN_IPADD: {
      out += "IP Address:";
      const std::string_view ip = AsView(gen->d.iPAddress);
      const auto* b = reinterpret_cast<const uint8_t*>(ip.data());
      char buf[64];
      if (ip.size() == 4) {
        std::snprintf(buf, sizeof(buf), "%d.%d.%d.%d", b[0], b[1], b[2], b[3]);
        out += buf;
      } else if (ip.size() == 16) {
        for (int j = 0; j < 8; ++j) {
          const unsigned pair = (b[2 * j] << 8) | b[2 * j + 1];
          std::snprintf(buf, sizeof(buf), j == 0 ? "%X" : ":%X", pair);
          out += buf;
        }
      } else {
        std::snprintf(buf, sizeof(buf), "<invalid length=%d>", static_cast<int>(ip.size()));
        out += buf;
      }
      return true;
    }
    case GEN_RID:
      out += "Registered ID:";
      out += ObjText(gen->d.registeredID, /*numeric=*/true);
      return true;
    case GEN_OTHERNAME: {
      const OTHERNAME* other = gen->d.otherName;
      bool unicode = true;
      const char* prefix = other != nullptr ? OtherNamePrefix(other->type_id, &unicode) : nullptr;
      const int val_type = (other != nullptr && other->value != nullptr) ? other->value->type : -1;
      if (prefix == nullptr || (unicode && val_type != V_ASN1_UTF8STRING) ||
          (!unicode && val_type != V_ASN1_IA5STRING)) {
        out += "othername:<unsupported>";
      } else {
        out += "othername:";
        PrintAltName(out, AsView(other->value->value.asn1_string), unicode, prefix);
      }
      return true;
    }
    case GEN_X400:
      out += "X400Name:<unsupported>";
      return true;
    case GEN_EDIPARTY:
      out += "EdiPartyName:<unsupported>";
      return true;
    default:
      return false;
  }
}

// Decodes a JSON string literal at the start of |s| (which starts with '"'),
// as Node's translatePeerCertificate does with JSON.parse. On failure returns
// |s| unchanged.
std::string JsonUnquote(std::string_view s) {
  std::string out;
  size_t i = 1;
  auto put_utf8 = [&out](uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  };
  while (i < s.size()) {
    const char c = s[i];
    if (c == '"') return out;
    if (c != '\\') {
      out += c;
      ++i;
      continue;
    }
    if (i + 1 >= s.size()) break;
    const char e = s[i + 1];
    i += 2;
    switch (e) {
      case '"':
        out += '"';
        break;
      case '\\':
        out += '\\';
        break;
      case '/':
        out += '/';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'u': {
        if (i + 4 > s.size()) return std::string(s);
        uint32_t cp = 0;
        for (int k = 0; k < 4; ++k) {
          const char h = s[i + k];
          cp <<= 4;
          if (h >= '0' && h <= '9')
            cp |= h - '0';
          else if (h >= 'a' && h <= 'f')
            cp |= h - 'a' + 10;
          else if (h >= 'A' && h <= 'F')
            cp |= h - 'A' + 10;
          else
            return std::string(s);
        }
        i += 4;
        put_utf8(cp);
        break;
      }
      default:
        return std::string(s);
    }
  }
  return std::string(s);
}

std::optional<std::vector<std::pair<std::string, std::string>>> InfoAccess(const X509* x) {
  const int index = X509_get_ext_by_NID(x, NID_info_access, -1);
  if (index < 0) return std::nullopt;
  const X509_EXTENSION* ext = X509_get_ext(x, index);
  if (ext == nullptr) return std::nullopt;
  std::unique_ptr<AUTHORITY_INFO_ACCESS, FreeInfoAccess> descs(
      static_cast<AUTHORITY_INFO_ACCESS*>(X509V3_EXT_d2i(ext)));
  if (!descs) return std::nullopt;
  std::vector<std::pair<std::string, std::string>> result;
  for (size_t i = 0; i < sk_ACCESS_DESCRIPTION_num(descs.get()); ++i) {
    const ACCESS_DESCRIPTION* desc = sk_ACCESS_DESCRIPTION_value(descs.get(), i);
    std::string line = ObjText(desc->method, /*numeric=*/false);
    line += " - ";
    if (!PrintGeneralName(line, desc->location)) break;
    // Node's translatePeerCertificate: key is the text before the first ':',
    // value the rest, JSON-decoded when it starts with a quote.
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = line.substr(0, colon);
    std::string_view val = std::string_view(line).substr(colon + 1);
    result.emplace_back(std::move(key),
                        (!val.empty() && val[0] == '"') ? JsonUnquote(val) : std::string(val));
  }
  return result;
}

// ---------------------------------------------------------------------------
// Public key.

// The raw SubjectPublicKeyInfo element of a DER certificate.
std::vector<uint8_t> SpkiFromDer(std::span<const uint8_t> der) {
  CBS cbs, cert, tbs, spki;
  CBS_init(&cbs, der.data(), der.size());
  if (!CBS_get_asn1(&cbs, &cert, CBS_ASN1_SEQUENCE) ||
      !CBS_get_asn1(&cert, &tbs, CBS_ASN1_SEQUENCE) ||
      !CBS_get_optional_asn1(&tbs, nullptr, nullptr,
                             CBS_ASN1_CONSTRUCTED | CBS_ASN1_CONTEXT_SPECIFIC | 0) ||
      !CBS_get_asn1(&tbs, nullptr, CBS_ASN1_INTEGER) ||   // serialNumber
      !CBS_get_asn1(&tbs, nullptr, CBS_ASN1_SEQUENCE) ||  // signature
      !CBS_get_asn1(&tbs, nullptr, CBS_ASN1_SEQUENCE) ||  // issuer
      !CBS_get_asn1(&tbs, nullptr, CBS_ASN1_SEQUENCE) ||  // validity
      !CBS_get_asn1(&tbs, nullptr, CBS_ASN1_SEQUENCE) ||  // subject
      !CBS_get_asn1_element(&tbs, &spki, CBS_ASN1_SEQUENCE)) {
    return {};
  }
  return {CBS_data(&spki), CBS_data(&spki) + CBS_len(&spki)};
}

// BN_print: upper-case hex, no leading zeros, "0" for zero.
std::string BnHex(const BIGNUM* bn) {
  if (bn == nullptr) return {};
  std::vector<uint8_t> bytes(BN_num_bytes(bn));
  BN_bn2bin(bn, bytes.data());
  std::string hex = HexUpper(bytes);
  const size_t nz = hex.find_first_not_of('0');
  hex = nz == std::string::npos ? "0" : hex.substr(nz);
  return BN_is_negative(bn) ? "-" + hex : hex;
}

void FillKey(X509* x, PeerCertificate& out) {
  bssl::UniquePtr<EVP_PKEY> pkey(X509_get_pubkey(x));
  if (!pkey) return;
  switch (EVP_PKEY_id(pkey.get())) {
    case EVP_PKEY_RSA: {
      const RSA* rsa = EVP_PKEY_get0_RSA(pkey.get());
      if (rsa == nullptr) return;
      const BIGNUM* n = nullptr;
      const BIGNUM* e = nullptr;
      RSA_get0_key(rsa, &n, &e, nullptr);
      if (n == nullptr || e == nullptr) return;
      out.modulus = BnHex(n);
      out.bits = static_cast<int>(BN_num_bits(n));
      // BN_get_word as OpenSSL 3 defines it: all ones if it does not fit.
      uint64_t word = ~uint64_t{0};
      if (BN_num_bits(e) <= 64) {
        uint8_t be[8] = {};
        BN_bn2bin_padded(be, sizeof(be), e);
        word = 0;
        for (uint8_t b : be) word = (word << 8) | b;
      }
      char buf[32];
      std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(word));
      out.exponent = buf;
      break;
    }
    case EVP_PKEY_EC: {
      const EC_KEY* ec = EVP_PKEY_get0_EC_KEY(pkey.get());
      const EC_GROUP* group = ec != nullptr ? EC_KEY_get0_group(ec) : nullptr;
      if (group == nullptr) return;
      const int bits = EC_GROUP_order_bits(group);
      if (bits > 0) out.bits = bits;
      const int nid = EC_GROUP_get_curve_name(group);
      if (nid != NID_undef) {
        if (const char* sn = OBJ_nid2sn(nid)) out.asn1_curve = sn;
        if (const char* nist = EC_curve_nid2nist(nid)) out.nist_curve = nist;
      }
      break;
    }
    default:
      break;
  }
}

// ---------------------------------------------------------------------------

std::string TimeString(const ASN1_TIME* t) {
  bssl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio || t == nullptr) return {};
  ASN1_TIME_print(bio.get(), t);  // writes "Bad time value" on failure
  return BioContents(bio.get());
}

// BN_bn2hex (OpenSSL): two digits per byte, no leading zero bytes.
std::string SerialHex(const ASN1_INTEGER* serial) {
  if (serial == nullptr) return {};
  std::string_view v = AsView(serial);
  size_t start = 0;
  while (start < v.size() && v[start] == '\0') ++start;
  if (start == v.size()) return "0";
  std::string hex =
      HexUpper({reinterpret_cast<const uint8_t*>(v.data()) + start, v.size() - start});
  return ASN1_STRING_type(serial) == V_ASN1_NEG_INTEGER ? "-" + hex : hex;
}

std::vector<std::string> ExtKeyUsage(const X509* x) {
  std::vector<std::string> result;
  std::unique_ptr<EXTENDED_KEY_USAGE, FreeObjects> eku(
      static_cast<EXTENDED_KEY_USAGE*>(X509_get_ext_d2i(x, NID_ext_key_usage, nullptr, nullptr)));
  if (!eku) return result;
  for (size_t i = 0; i < sk_ASN1_OBJECT_num(eku.get()); ++i) {
    std::string oid = ObjText(sk_ASN1_OBJECT_value(eku.get(), i), /*numeric=*/true);
    if (!oid.empty()) result.push_back(std::move(oid));
  }
  return result;
}

// Node's X509ToObject.
PeerCertificate ToObject(X509* x, std::span<const uint8_t> der) {
  PeerCertificate out;
  if (auto s = x509_internal::NameEntries(X509_get_subject_name(x))) out.subject = std::move(*s);
  if (auto s = x509_internal::NameEntries(X509_get_issuer_name(x))) out.issuer = std::move(*s);
  if (auto san = x509_internal::SubjectAltNameString(x)) out.subjectaltname = std::move(*san);
  if (auto ia = InfoAccess(x)) out.info_access = std::move(*ia);
  out.ca = X509_check_ca(x) == 1;
  FillKey(x, out);
  out.pubkey = SpkiFromDer(der);
  out.valid_from = TimeString(X509_get0_notBefore(x));
  out.valid_to = TimeString(X509_get0_notAfter(x));

  uint8_t md[SHA512_DIGEST_LENGTH];
  SHA1(der.data(), der.size(), md);
  out.fingerprint = Fingerprint({md, SHA_DIGEST_LENGTH});
  SHA256(der.data(), der.size(), md);
  out.fingerprint256 = Fingerprint({md, SHA256_DIGEST_LENGTH});
  SHA512(der.data(), der.size(), md);
  out.fingerprint512 = Fingerprint({md, SHA512_DIGEST_LENGTH});

  out.ext_key_usage = ExtKeyUsage(x);
  out.serial_number = SerialHex(X509_get0_serialNumber(x));
  out.raw.assign(der.begin(), der.end());
  return out;
}

// ---------------------------------------------------------------------------
// JSON.

void JsonString(std::string& out, std::string_view s) {
  out += '"';
  size_t i = 0;
  auto escape_byte = [&out](unsigned char u) {
    out += "\\u00";
    out += kLowerHex[u >> 4];
    out += kLowerHex[u & 0xf];
  };
  while (i < s.size()) {
    const auto u = static_cast<unsigned char>(s[i]);
    if (u < 0x80) {
      switch (u) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        case '\b':
          out += "\\b";
          break;
        case '\f':
          out += "\\f";
          break;
        default:
          if (u < 0x20 || u == 0x7f)
            escape_byte(u);
          else
            out += static_cast<char>(u);
      }
      ++i;
      continue;
    }
    // Copy a well-formed UTF-8 sequence; otherwise escape the byte (Latin-1).
    size_t len = 0;
    uint32_t cp = 0;
    if (u >= 0xC2 && u <= 0xDF) {
      len = 2;
      cp = u & 0x1F;
    } else if (u >= 0xE0 && u <= 0xEF) {
      len = 3;
      cp = u & 0x0F;
    } else if (u >= 0xF0 && u <= 0xF4) {
      len = 4;
      cp = u & 0x07;
    }
    bool ok = len != 0 && i + len <= s.size();
    for (size_t k = 1; ok && k < len; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xC0) != 0x80) ok = false;
      cp = (cp << 6) | (c & 0x3F);
    }
    if (ok) {
      // Reject overlong forms, surrogates and values above U+10FFFF.
      if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
          (cp >= 0xD800 && cp <= 0xDFFF)) {
        ok = false;
      }
    }
    if (ok) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      escape_byte(u);
      ++i;
    }
  }
  out += '"';
}

std::string Base64(std::span<const uint8_t> data) {
  size_t len = 0;
  if (!EVP_EncodedLength(&len, data.size())) return {};
  std::string out(len, '\0');
  const size_t n =
      EVP_EncodeBlock(reinterpret_cast<uint8_t*>(out.data()), data.data(), data.size());
  out.resize(n);
  return out;
}

// An object whose repeated keys become arrays, keys in first-seen order.
void JsonMultiMap(std::string& out, const std::vector<std::pair<std::string, std::string>>& entries,
                  bool always_array) {
  std::vector<std::string_view> keys;
  for (const auto& [k, v] : entries) {
    if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
  }
  out += '{';
  bool first = true;
  for (std::string_view key : keys) {
    if (!first) out += ',';
    first = false;
    JsonString(out, key);
    out += ':';
    size_t count = 0;
    for (const auto& [k, v] : entries) count += (k == key);
    const bool array = always_array || count > 1;
    if (array) out += '[';
    bool first_value = true;
    for (const auto& [k, v] : entries) {
      if (k != key) continue;
      if (!first_value) out += ',';
      first_value = false;
      JsonString(out, v);
    }
    if (array) out += ']';
  }
  out += '}';
}

void JsonObject(std::string& out, const PeerCertificate& c) {
  auto field = [&out](std::string_view name) {
    if (out.back() != '{') out += ',';
    JsonString(out, name);
    out += ':';
  };
  auto string_field = [&](std::string_view name, const std::string& value) {
    if (value.empty()) return;
    field(name);
    JsonString(out, value);
  };
  auto bits_field = [&] {
    if (c.bits == 0) return;
    field("bits");
    out += std::to_string(c.bits);
  };
  auto pubkey_field = [&] {
    if (c.pubkey.empty()) return;
    field("pubkey");
    JsonString(out, Base64(c.pubkey));
  };

  out += '{';
  field("subject");
  JsonMultiMap(out, c.subject, false);
  field("issuer");
  JsonMultiMap(out, c.issuer, false);
  string_field("subjectaltname", c.subjectaltname);
  if (!c.info_access.empty()) {
    field("infoAccess");
    JsonMultiMap(out, c.info_access, true);
  }
  field("ca");
  out += c.ca ? "true" : "false";
  if (!c.modulus.empty()) {
    string_field("modulus", c.modulus);
    bits_field();
    string_field("exponent", c.exponent);
    pubkey_field();
  } else {
    bits_field();
    pubkey_field();
    string_field("asn1Curve", c.asn1_curve);
    string_field("nistCurve", c.nist_curve);
  }
  string_field("valid_from", c.valid_from);
  string_field("valid_to", c.valid_to);
  string_field("fingerprint", c.fingerprint);
  string_field("fingerprint256", c.fingerprint256);
  string_field("fingerprint512", c.fingerprint512);
  if (!c.ext_key_usage.empty()) {
    field("ext_key_usage");
    out += '[';
    for (size_t i = 0; i < c.ext_key_usage.size(); ++i) {
      if (i != 0) out += ',';
      JsonString(out, c.ext_key_usage[i]);
    }
    out += ']';
  }
  string_field("serialNumber", c.serial_number);
  if (!c.raw.empty()) {
    field("raw");
    JsonString(out, Base64(c.raw));
  }
  if (c.issuer_is_self) {
    field("issuerCertificate");
    JsonString(out, "[Circular]");
  } else if (c.issuer_certificate) {
    field("issuerCertificate");
    JsonObject(out, *c.issuer_certificate);  // depth <= kMaxIssuerChainLength
  }
  out += '}';
}

}  // namespace

namespace x509_internal {

bssl::UniquePtr<X509> ParseDer(std::span<const uint8_t> der) {
  ClearErrors clear;
  if (der.empty() || der.size() > static_cast<size_t>(LONG_MAX)) return nullptr;
  const uint8_t* p = der.data();
  bssl::UniquePtr<X509> x(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!x || p != der.data() + der.size()) return nullptr;
  return x;
}

std::optional<std::vector<std::pair<std::string, std::string>>> NameEntries(const X509_NAME* name) {
  ClearErrors clear;
  std::vector<std::pair<std::string, std::string>> result;
  if (name == nullptr) return result;
  const int count = X509_NAME_entry_count(name);
  for (int i = 0; i < count; ++i) {
    const X509_NAME_ENTRY* entry = X509_NAME_get_entry(name, i);
    if (entry == nullptr) return std::nullopt;
    const ASN1_STRING* value = X509_NAME_ENTRY_get_data(entry);
    if (value == nullptr) return std::nullopt;
    unsigned char* utf8 = nullptr;
    const int len = ASN1_STRING_to_UTF8(&utf8, value);
    if (len < 0) return std::nullopt;
    std::string text(reinterpret_cast<const char*>(utf8), static_cast<size_t>(len));
    OPENSSL_free(utf8);
    result.emplace_back(AttributeKey(X509_NAME_ENTRY_get_object(entry)), std::move(text));
  }
  return result;
}

std::optional<std::string> SubjectAltNameString(const X509* cert) {
  ClearErrors clear;
  const int index = X509_get_ext_by_NID(cert, NID_subject_alt_name, -1);
  if (index < 0) return std::nullopt;
  const X509_EXTENSION* ext = X509_get_ext(cert, index);
  if (ext == nullptr) return std::nullopt;
  std::unique_ptr<GENERAL_NAMES, FreeGeneralNames> names(
      static_cast<GENERAL_NAMES*>(X509V3_EXT_d2i(ext)));
  if (!names) return std::nullopt;
  std::string out;
  for (size_t i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    if (i != 0) out += ", ";
    if (!PrintGeneralName(out, sk_GENERAL_NAME_value(names.get(), i))) {
      return std::nullopt;
    }
  }
  return out;
}

}  // namespace x509_internal

std::optional<PeerCertificate> ParsePeerCertificate(std::span<const uint8_t> der) {
  ClearErrors clear;
  bssl::UniquePtr<X509> x = x509_internal::ParseDer(der);
  if (!x) return std::nullopt;
  return ToObject(x.get(), der);
}

std::optional<PeerCertificate> ParsePeerCertificate(std::span<const std::vector<uint8_t>> chain,
                                                    bool detailed) {
  ClearErrors clear;
  if (chain.empty()) return std::nullopt;
  if (!detailed) return ParsePeerCertificate(std::span<const uint8_t>(chain[0]));

  std::vector<bssl::UniquePtr<X509>> parsed;
  parsed.reserve(chain.size());
  for (const auto& der : chain) {
    parsed.push_back(x509_internal::ParseDer(der));
    if (!parsed.back()) return std::nullopt;
  }

  // Node's AddIssuerChainToObject: from the leaf, repeatedly take the first
  // unused certificate that issued the current one.
  std::vector<size_t> path = {0};
  std::vector<bool> used(chain.size(), false);
  used[0] = true;
  while (path.size() <= kMaxIssuerChainLength) {
    X509* current = parsed[path.back()].get();
    size_t found = chain.size();
    for (size_t i = 0; i < chain.size(); ++i) {
      if (!used[i] && X509_check_issued(parsed[i].get(), current) == X509_V_OK) {
        found = i;
        break;
      }
    }
    if (found == chain.size()) break;
    used[found] = true;
    path.push_back(found);
  }
  bool cut = path.size() > kMaxIssuerChainLength;
  if (cut) path.resize(kMaxIssuerChainLength);

  // Build from the top of the path down, so each object owns its issuer.
  std::shared_ptr<const PeerCertificate> above;
  for (size_t k = path.size(); k-- > 0;) {
    const size_t idx = path[k];
    PeerCertificate obj = ToObject(parsed[idx].get(), chain[idx]);
    if (k + 1 == path.size()) {
      // The last certificate: a self-issued one refers to itself.
      obj.issuer_is_self =
          !cut && X509_check_issued(parsed[idx].get(), parsed[idx].get()) == X509_V_OK;
    } else {
      obj.issuer_certificate = std::move(above);
    }
    if (k == 0) return obj;
    above = std::make_shared<const PeerCertificate>(std::move(obj));
  }
  return std::nullopt;  // unreachable: path is never empty
}

std::string ToJson(const PeerCertificate& cert) {
  std::string out;
  JsonObject(out, cert);
  return out;
}

}  // namespace sansio_tls
