#include "object/swift/bulk.h"

#include <gtest/gtest.h>

namespace ciel::object::swift {
namespace {

using Paths = std::vector<std::string>;

TEST(SwiftBulk, ParsesDeleteBody) {
  auto r = parse_bulk_delete_body("/c/o\ncontainer/with%20space\r\n\n  \t\n/c%2Fslash/%E2%98%83\n//lead/x\n/just-container\na+b%zz%4\n");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, (Paths{"/c/o", "/container/with space", "/c/slash/\xE2\x98\x83", "/lead/x", "/just-container", "/a+b%zz%4"}));
  EXPECT_EQ(*parse_bulk_delete_body("/c/last-without-newline"), (Paths{"/c/last-without-newline"}));
  EXPECT_TRUE(parse_bulk_delete_body("")->empty());
  EXPECT_TRUE(parse_bulk_delete_body("\n\n \r\n")->empty());
  EXPECT_EQ(*parse_bulk_delete_body("///\n"), (Paths{"/"}));
}

TEST(SwiftBulk, DeleteBodyLimits) {
  std::string body;
  for (int i = 0; i < 3; ++i) { body += "/c/o" + std::to_string(i) + "\n"; }
  EXPECT_EQ(parse_bulk_delete_body(body, 3)->size(), 3u);
  auto over = parse_bulk_delete_body(body + "\n\n/c/o3", 3);
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code, Errc::too_large);
  EXPECT_EQ(over.error().message, "Maximum Bulk Deletes: 3 per request");

  EXPECT_TRUE(parse_bulk_delete_body("/c/" + std::string(4093, 'x')));
  auto long_line = parse_bulk_delete_body("/c/" + std::string(4094, 'x'));
  ASSERT_FALSE(long_line);
  EXPECT_EQ(long_line.error().code, Errc::invalid_argument);
  EXPECT_EQ(long_line.error().message, "Invalid File Name");
  // The limit is on the decoded path: 3 bytes of escape are one byte.
  std::string encoded = "/c/";
  for (int i = 0; i < 4093; ++i) { encoded += "%41"; }
  EXPECT_TRUE(parse_bulk_delete_body(encoded));
}

BulkResult delete_result() {
  BulkResult r;
  r.ok_count = 2;
  r.not_found = 1;
  r.response_status = "400 Bad Request";
  r.errors = {{"/c/o 1", "409 Conflict"}, {"/c/<&>\xE2\x98\x83", "412 Precondition Failed"}};
  return r;
}

TEST(SwiftBulk, RendersDeleteAsText) {
  EXPECT_EQ(render_bulk_result(delete_result(), "text/plain", false),
            "Number Deleted: 2\n"
            "Number Not Found: 1\n"
            "Response Body: \n"
            "Response Status: 400 Bad Request\n"
            "Errors:\n"
            "/c/o%201, 409 Conflict\n"
            "/c/%3C%26%3E%E2%98%83, 412 Precondition Failed\n");
  BulkResult ok;
  ok.ok_count = 6;
  EXPECT_EQ(render_bulk_result(ok, "*/*", false),
            "Number Deleted: 6\nNumber Not Found: 0\nResponse Body: \nResponse Status: 200 OK\nErrors:\n");
}

TEST(SwiftBulk, RendersDeleteAsJson) {
  EXPECT_EQ(render_bulk_result(delete_result(), "application/json", false),
            R"({"Response Status": "400 Bad Request", "Response Body": "", "Number Deleted": 2, "Number Not Found": 1, )"
            R"("Errors": [["/c/o%201", "409 Conflict"], ["/c/%3C%26%3E%E2%98%83", "412 Precondition Failed"]]})");
  BulkResult invalid;
  invalid.response_status = "400 Bad Request";
  invalid.response_body = "Invalid bulk delete.";
  EXPECT_EQ(render_bulk_result(invalid, "application/json", false),
            R"({"Response Status": "400 Bad Request", "Response Body": "Invalid bulk delete.", "Number Deleted": 0, )"
            R"("Number Not Found": 0, "Errors": []})");
}

TEST(SwiftBulk, RendersDeleteAsXml) {
  std::string want =
      "<delete>\n"
      "<number_deleted>2</number_deleted>\n"
      "<number_not_found>1</number_not_found>\n"
      "<response_body></response_body>\n"
      "<response_status>400 Bad Request</response_status>\n"
      "<errors>\n"
      "<object><name>/c/o%201</name><status>409 Conflict</status></object>\n"
      "<object><name>/c/%3C%26%3E%E2%98%83</name><status>412 Precondition Failed</status></object>\n"
      "</errors>\n"
      "</delete>\n";
  EXPECT_EQ(render_bulk_result(delete_result(), "application/xml", false), want);
  EXPECT_EQ(render_bulk_result(delete_result(), "text/xml", false), want);
}

TEST(SwiftBulk, RendersExtract) {
  BulkResult r;
  r.ok_count = 10;
  r.response_status = "201 Created";
  EXPECT_EQ(render_bulk_result(r, "application/json", true),
            R"({"Response Status": "201 Created", "Response Body": "", "Number Files Created": 10, "Errors": []})");
  EXPECT_EQ(render_bulk_result(r, "text/plain", true),
            "Number Files Created: 10\nResponse Body: \nResponse Status: 201 Created\nErrors:\n");
  r.response_status = "400 Bad Request";
  r.response_body = "Invalid Tar File: <truncated> & more";
  r.ok_count = 0;
  EXPECT_EQ(render_bulk_result(r, "application/xml", true),
            "<extract>\n"
            "<number_files_created>0</number_files_created>\n"
            "<response_body>Invalid Tar File: &lt;truncated&gt; &amp; more</response_body>\n"
            "<response_status>400 Bad Request</response_status>\n"
            "<errors>\n"
            "</errors>\n"
            "</extract>\n");
}

}  // namespace
}  // namespace ciel::object::swift
