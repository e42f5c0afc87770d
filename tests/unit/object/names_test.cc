#include "object/engine/names.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace ciel::object {
namespace {

using Meta = std::vector<std::pair<std::string, std::string>>;

std::string message_of(const Status& st) { return st ? std::string() : st.error().message; }

TEST(ObjectNames, ContainerNameAccepted) {
  EXPECT_TRUE(check_container_name("photos"));
  EXPECT_TRUE(check_container_name("with space and ünïcødé ☃"));
  EXPECT_TRUE(check_container_name(std::string(256, 'c')));
  EXPECT_TRUE(check_container_name("..."));
  EXPECT_TRUE(check_container_name("\xF0\x9F\x98\x80"));  // U+1F600
}

TEST(ObjectNames, ContainerNameRefusedWithSwiftMessages) {
  auto st = check_container_name(std::string(300, 'c'));
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::invalid_argument);
  EXPECT_EQ(st.error().message, "Container name length of 300 longer than 256");
  EXPECT_EQ(message_of(check_container_name("")), "Container name cannot be empty");
  EXPECT_EQ(message_of(check_container_name("a/b")), "Container name cannot contain '/'");
  EXPECT_EQ(message_of(check_container_name(".")), "Container name cannot be '.' or '..'");
  EXPECT_EQ(message_of(check_container_name("..")), "Container name cannot be '.' or '..'");
  EXPECT_EQ(message_of(check_container_name(std::string("a\0b", 3))), "Invalid UTF8 or contains NULL");
}

TEST(ObjectNames, InvalidUtf8Refused) {
  for (std::string bad : {std::string("\xC0\xAF"),            // overlong '/'
                          std::string("\xE0\x80\xAF"),        // overlong, three bytes
                          std::string("\xED\xA0\x80"),        // surrogate U+D800
                          std::string("\xF4\x90\x80\x80"),    // U+110000
                          std::string("\xFF"), std::string("abc\xE2\x98"),  // truncated
                          std::string("\x80")}) {
    EXPECT_EQ(message_of(check_container_name(bad)), "Invalid UTF8 or contains NULL") << bad;
    EXPECT_EQ(message_of(check_object_name(bad)), "Invalid UTF8 or contains NULL") << bad;
  }
}

TEST(ObjectNames, ObjectName) {
  EXPECT_TRUE(check_object_name("a"));
  EXPECT_TRUE(check_object_name("dir/sub/file.txt"));
  EXPECT_TRUE(check_object_name("/leading//double//slashes/"));
  EXPECT_TRUE(check_object_name("a.b/..c/.d./..."));
  EXPECT_TRUE(check_object_name(std::string(1024, 'o')));
  EXPECT_EQ(message_of(check_object_name(std::string(1025, 'o'))), "Object name length of 1025 longer than 1024");
  EXPECT_EQ(message_of(check_object_name("")), "Object name cannot be empty");
  for (std::string bad : {".", "..", "./a", "a/..", "a/./b", "a/../b", "/..", "x//./y"}) {
    EXPECT_EQ(message_of(check_object_name(bad)), "Object name cannot contain a '.' or '..' path segment") << bad;
  }
  EXPECT_EQ(message_of(check_object_name(std::string("a\0", 2))), "Invalid UTF8 or contains NULL");
}

TEST(ObjectNames, MetadataWithinLimits) {
  Meta meta;
  for (int i = 0; i < 90; ++i) { meta.emplace_back("k" + std::to_string(i), std::string(10, 'v')); }
  EXPECT_TRUE(check_metadata(MetadataTarget::container, meta));
  EXPECT_TRUE(check_metadata(MetadataTarget::object, Meta{{std::string(128, 'n'), std::string(256, 'v')}}));
  EXPECT_TRUE(check_metadata(MetadataTarget::object, Meta{}));
}

TEST(ObjectNames, MetadataLimitsWithSwiftMessages) {
  EXPECT_EQ(message_of(check_metadata(MetadataTarget::container, Meta{{"", "v"}})), "Metadata name cannot be empty");
  EXPECT_EQ(message_of(check_metadata(MetadataTarget::container, Meta{{std::string(129, 'n'), "v"}})),
            "Metadata name too long: x-container-meta-" + std::string(129, 'n'));
  EXPECT_EQ(message_of(check_metadata(MetadataTarget::object, Meta{{"color", std::string(257, 'v')}})),
            "Metadata value longer than 256: x-object-meta-color");
  Meta many;
  for (int i = 0; i < 91; ++i) { many.emplace_back("k" + std::to_string(i), "v"); }
  EXPECT_EQ(message_of(check_metadata(MetadataTarget::account, many)), "Too many metadata items; max 90");
  Meta big;  // 17 items of 3 + 250 bytes = 4301 > 4096
  for (int i = 0; i < 17; ++i) { big.emplace_back("k" + std::to_string(10 + i), std::string(250, 'v')); }
  EXPECT_EQ(message_of(check_metadata(MetadataTarget::account, big)), "Total metadata too large; max 4096");
  EXPECT_EQ(check_metadata(MetadataTarget::account, big).error().code, Errc::invalid_argument);
}

TEST(ObjectNames, MetadataUtf8OnlyForAccountsAndContainers) {
  Meta bad{{"name", "\xFF"}};
  EXPECT_EQ(message_of(check_metadata(MetadataTarget::account, bad)), "Metadata must be valid UTF-8");
  EXPECT_EQ(message_of(check_metadata(MetadataTarget::container, bad)), "Metadata must be valid UTF-8");
  EXPECT_TRUE(check_metadata(MetadataTarget::object, bad));
}

}  // namespace
}  // namespace ciel::object
