// The object.* settings and the engine config they give.
#include "object/settings.h"

#include <gtest/gtest.h>

namespace ciel::object {
namespace {

TEST(ObjectSettings, MultipartDefaultsAndOverrides) {
  config::Settings s;
  declare_settings(s);
  auto c = config_from(s);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->min_part_size, 5ull << 20);
  EXPECT_EQ(c->upload_expiry_s, 7 * 86400);

  ASSERT_TRUE(s.set("object.min_part_size", "1MiB", "test"));
  ASSERT_TRUE(s.set("object.upload_expiry", "36h", "test"));
  c = config_from(s);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->min_part_size, 1ull << 20);
  EXPECT_EQ(c->upload_expiry_s, 36 * 3600);

  ASSERT_TRUE(s.set("object.upload_expiry", "500ms", "test"));
  auto bad = config_from(s);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("object.upload_expiry"), std::string::npos);
  ASSERT_TRUE(s.set("object.upload_expiry", "1d", "test"));
  ASSERT_TRUE(s.set("object.min_part_size", "6GiB", "test"));  // above object.max_object_size
  bad = config_from(s);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("object.min_part_size"), std::string::npos);
}

}  // namespace
}  // namespace ciel::object
