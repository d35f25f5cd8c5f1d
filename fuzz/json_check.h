// A strict JSON (RFC 8259) syntax check with UTF-8 validation, for fuzz targets that
// render JSON. Header-only.
#ifndef SANSIO_TLS_FUZZ_JSON_CHECK_H_
#define SANSIO_TLS_FUZZ_JSON_CHECK_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sansio_tls::fuzz {

class JsonCheck {
 public:
  // True when |text| is exactly one valid JSON value (whitespace around allowed).
  static bool Valid(std::string_view text) {
    JsonCheck c(text);
    c.Ws();
    if (!c.Value(0)) return false;
    c.Ws();
    return c.i_ == text.size();
  }

 private:
  explicit JsonCheck(std::string_view s) : s_(s) {}
  bool More() const { return i_ < s_.size(); }
  char Peek() const { return More() ? s_[i_] : '\0'; }
  void Ws() {
    while (More() && (Peek() == ' ' || Peek() == '\n' || Peek() == '\r' || Peek() == '\t')) ++i_;
  }
  bool Lit(std::string_view w) {
    if (s_.substr(i_, w.size()) != w) return false;
    i_ += w.size();
    return true;
  }
  bool Value(int depth) {
    if (depth > 200) return false;
    switch (Peek()) {
      case '{':
        return Object(depth);
      case '[':
        return Array(depth);
      case '"':
        return String();
      case 't':
        return Lit("true");
      case 'f':
        return Lit("false");
      case 'n':
        return Lit("null");
      default:
        return Number();
    }
  }
  bool Object(int depth) {
    ++i_;
    Ws();
    if (Peek() == '}') return ++i_, true;
    for (;;) {
      Ws();
      if (!String()) return false;
      Ws();
      if (Peek() != ':') return false;
      ++i_;
      Ws();
      if (!Value(depth + 1)) return false;
      Ws();
      if (Peek() == ',') {
        ++i_;
        continue;
      }
      if (Peek() == '}') return ++i_, true;
      return false;
    }
  }
  bool Array(int depth) {
    ++i_;
    Ws();
    if (Peek() == ']') return ++i_, true;
    for (;;) {
      Ws();
      if (!Value(depth + 1)) return false;
      Ws();
      if (Peek() == ',') {
        ++i_;
        continue;
      }
      if (Peek() == ']') return ++i_, true;
      return false;
    }
  }
  static bool IsHex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  }
  bool String() {
    if (Peek() != '"') return false;
    ++i_;
    while (More()) {
      auto c = static_cast<uint8_t>(s_[i_]);
      if (c == '"') return ++i_, true;
      if (c < 0x20) return false;
      if (c == '\\') {
        ++i_;
        char e = Peek();
        if (e == 'u') {
          for (int k = 1; k <= 4; ++k)
            if (!IsHex(i_ + k < s_.size() ? s_[i_ + k] : '\0')) return false;
          i_ += 5;
        } else if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' ||
                   e == 'r' || e == 't') {
          ++i_;
        } else {
          return false;
        }
        continue;
      }
      if (c < 0x80) {
        ++i_;
        continue;
      }
      // UTF-8: shortest form, no surrogates, <= U+10FFFF.
      int n = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC2 ? 1 : -1;
      if (n < 0 || c > 0xF4 || i_ + n >= s_.size()) return false;
      uint32_t cp = c & (0x3F >> n);
      for (int k = 1; k <= n; ++k) {
        auto cc = static_cast<uint8_t>(s_[i_ + k]);
        if ((cc & 0xC0) != 0x80) return false;
        cp = cp << 6 | (cc & 0x3F);
      }
      if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
          (cp >= 0xD800 && cp <= 0xDFFF))
        return false;
      i_ += n + 1;
    }
    return false;
  }
  bool Number() {
    size_t start = i_;
    if (Peek() == '-') ++i_;
    if (Peek() == '0') {
      ++i_;
    } else if (Peek() >= '1' && Peek() <= '9') {
      while (Peek() >= '0' && Peek() <= '9') ++i_;
    } else {
      return false;
    }
    if (Peek() == '.') {
      ++i_;
      if (!(Peek() >= '0' && Peek() <= '9')) return false;
      while (Peek() >= '0' && Peek() <= '9') ++i_;
    }
    if (Peek() == 'e' || Peek() == 'E') {
      ++i_;
      if (Peek() == '+' || Peek() == '-') ++i_;
      if (!(Peek() >= '0' && Peek() <= '9')) return false;
      while (Peek() >= '0' && Peek() <= '9') ++i_;
    }
    return i_ > start;
  }

  std::string_view s_;
  size_t i_ = 0;
};

}  // namespace sansio_tls::fuzz

#endif  // SANSIO_TLS_FUZZ_JSON_CHECK_H_
