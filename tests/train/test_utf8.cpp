// The one UTF-8 decoder (train/utf8.hpp): every boundary RFC 3629 draws, byte for byte.
#include <catch2/catch.hpp>

#include "train/utf8.hpp"

using torus::train::utf8_sequence_length;
using torus::train::valid_utf8;

TEST_CASE("utf8_sequence_length accepts exactly RFC 3629's sequences", "[train][utf8]") {
  const auto len = [](const std::string& s) { return utf8_sequence_length(s, 0); };
  CHECK(len("a") == 1);
  CHECK(len(std::string(1, '\0')) == 1);
  CHECK(len("\xc3\xa9") == 2);                // é
  CHECK(len("\xe6\x97\xa5") == 3);            // 日
  CHECK(len("\xef\xbf\xbf") == 3);            // U+FFFF
  CHECK(len("\xf0\x9f\x98\x80") == 4);        // U+1F600
  CHECK(len("\xf4\x8f\xbf\xbf") == 4);        // U+10FFFF, the last code point
  CHECK(len("\x80") == 0);                    // a lone continuation byte
  CHECK(len("\xc0\x80") == 0);                // overlong NUL
  CHECK(len("\xc1\xbf") == 0);                // overlong
  CHECK(len("\xe0\x9f\xbf") == 0);            // overlong 3-byte
  CHECK(len("\xed\xa0\x80") == 0);            // U+D800, a surrogate
  CHECK(len("\xed\x9f\xbf") == 3);            // U+D7FF, just below
  CHECK(len("\xf0\x8f\xbf\xbf") == 0);        // overlong 4-byte
  CHECK(len("\xf4\x90\x80\x80") == 0);        // above U+10FFFF
  CHECK(len("\xf5\x80\x80\x80") == 0);
  CHECK(len("\xff") == 0);
  CHECK(len("\xe6\x97") == 0);                // truncated at the end
  CHECK(len("\xe6\x97x") == 0);               // interrupted
  CHECK(utf8_sequence_length("ab\xc3\xa9", 2) == 2);
  CHECK(valid_utf8("caf\xc3\xa9 \xe6\x97\xa5"));
  CHECK(valid_utf8(""));
  CHECK_FALSE(valid_utf8("caf\xe9"));         // Latin-1 é
  CHECK_FALSE(valid_utf8("ok\xc3"));
}

TEST_CASE("displayable_utf8 keeps valid text and replaces what a plot cannot hold", "[train][utf8]") {
  using torus::train::displayable_utf8;
  const std::string fffd = "\xef\xbf\xbd";
  CHECK(displayable_utf8("caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x98\x80") == "caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x98\x80");
  CHECK(displayable_utf8("a\x80z") == "a" + fffd + "z");               // a stray continuation byte
  CHECK(displayable_utf8("b\xe6\x97") == "b" + fffd + fffd);           // a truncated sequence: one per byte
  CHECK(displayable_utf8("\xed\xa0\x80") == fffd + fffd + fffd);       // a surrogate
  CHECK(displayable_utf8(std::string("x\0y\ty\x7f", 6)) == "x" + fffd + "y" + fffd + "y" + fffd);
  CHECK(valid_utf8(displayable_utf8("\xff\xfe\xc0\xaf")));
}
