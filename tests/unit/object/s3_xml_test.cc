#include "object/s3/xml.h"

#include <gtest/gtest.h>

namespace ciel::object::s3 {
namespace {

const std::string kNs = " xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"";
const std::string kDecl = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

template <class T>
void expect_error(const Result<T>& r, std::string_view message) {
  ASSERT_FALSE(r) << "accepted";
  EXPECT_EQ(r.error().code, Errc::invalid_argument);
  EXPECT_EQ(r.error().message, message);
}

template <class T>
void expect_malformed(const Result<T>& r) {
  expect_error(r, kMalformedXml);
}

std::string repeat(std::string_view s, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) { out += s; }
  return out;
}

std::string delete_body(std::string_view key) { return "<Delete><Object><Key>" + std::string(key) + "</Key></Object></Delete>"; }

// --- well-formedness, shared by every parser --------------------------------------------------------

TEST(S3Xml, RefusesWhatIsNotOneWellFormedDocument) {
  expect_malformed(parse_delete(""));
  expect_malformed(parse_delete("   \n"));
  expect_malformed(parse_delete("not xml"));
  expect_malformed(parse_delete("<Delete><Object><Key>a</Key></Object>"));               // truncated
  expect_malformed(parse_delete("<Delete><Object><Key>a</Object></Key></Delete>"));      // mismatched
  expect_malformed(parse_delete(delete_body("a") + delete_body("b")));                    // two roots
  expect_malformed(parse_delete("junk" + delete_body("a")));                              // text outside the root
  expect_malformed(parse_delete("<Tagging><TagSet/></Tagging>"));                        // another document
  expect_malformed(parse_delete("<Delete xmlns=\"http://example.com/\"><Object><Key>a</Key></Object></Delete>"));
  expect_malformed(parse_delete("<s3:Delete xmlns:s3=\"http://s3.amazonaws.com/doc/2006-03-01/\"/>"));
}

TEST(S3Xml, RefusesDoctypeEntitiesAndControlCharacters) {
  expect_malformed(parse_delete("<!DOCTYPE Delete>" + delete_body("a")));
  expect_malformed(parse_delete("<?xml version=\"1.0\"?><!DOCTYPE Delete [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>" +
                                delete_body("&x;")));
  expect_malformed(parse_delete("<!DOCTYPE d [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;\">]>" + delete_body("&b;")));
  expect_malformed(parse_delete(delete_body("&undeclared;")));
  expect_malformed(parse_delete(delete_body("a & b")));
  expect_malformed(parse_delete(delete_body("&#0;")));
  expect_malformed(parse_delete(delete_body("&#x0;")));
  expect_malformed(parse_delete(delete_body("&#xD800;")));
  expect_malformed(parse_delete(delete_body("&#x110000;")));
  expect_malformed(parse_delete(delete_body("&#X41;")));
  expect_malformed(parse_delete(delete_body("&#;")));
  expect_malformed(parse_delete(delete_body(std::string("a\x01" "b"))));
  expect_malformed(parse_delete(delete_body(std::string("a\0b", 3))));
  expect_malformed(parse_delete(delete_body("\xC3\x28")));         // invalid UTF-8
  expect_malformed(parse_delete(delete_body("<!-- unclosed")));
  expect_malformed(parse_delete(delete_body("<![CDATA[unclosed")));
}

TEST(S3Xml, DecodesReferencesCdataAndKeepsWhitespace) {
  auto r = parse_delete(delete_body("&lt;a&gt; &amp; &quot;b&quot; &apos;c&apos; &#65;&#x42;&#x1F600; &#x1;"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->keys[0].key, "<a> & \"b\" 'c' AB\xF0\x9F\x98\x80 \x01");
  // A key is taken as written: only-whitespace keys, surrounding spaces, CDATA, comments inside.
  EXPECT_EQ(parse_delete(delete_body(" "))->keys[0].key, " ");
  EXPECT_EQ(parse_delete(delete_body("\t\n"))->keys[0].key, "\t\n");
  EXPECT_EQ(parse_delete(delete_body("  a b  "))->keys[0].key, "  a b  ");
  EXPECT_EQ(parse_delete(delete_body("<![CDATA[<x>&amp;]]>"))->keys[0].key, "<x>&amp;");
  EXPECT_EQ(parse_delete(delete_body("a<!-- note -->b"))->keys[0].key, "ab");
  EXPECT_EQ(parse_delete(delete_body("a&#xD;b"))->keys[0].key, "a\rb");
  EXPECT_EQ(parse_delete(delete_body("a\r\nb"))->keys[0].key, "a\nb");  // XML's end-of-line handling
  EXPECT_EQ(parse_delete("<Delete><Object><Key/></Object></Delete>")->keys[0].key, "");
  // Declaration, comments and processing instructions around the root are fine; so is a BOM.
  EXPECT_TRUE(parse_delete(kDecl + "<!-- c --><?pi x?>\n" + delete_body("a") + "\n<!-- end -->\n"));
  EXPECT_TRUE(parse_delete("\xEF\xBB\xBF" + delete_body("a")));
}

// --- CreateBucketConfiguration ----------------------------------------------------------------------

TEST(S3Xml, CreateBucket) {
  EXPECT_EQ(*parse_create_bucket(""), "");
  EXPECT_EQ(*parse_create_bucket(" \r\n"), "");
  auto boto = parse_create_bucket("<CreateBucketConfiguration" + kNs + "><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>");
  ASSERT_TRUE(boto) << boto.error().message;
  EXPECT_EQ(*boto, "eu-west-1");
  EXPECT_EQ(*parse_create_bucket(kDecl + "<CreateBucketConfiguration>\n  <LocationConstraint>RegionOne</LocationConstraint>\n</CreateBucketConfiguration>"),
            "RegionOne");
  EXPECT_EQ(*parse_create_bucket("<CreateBucketConfiguration" + kNs + "/>"), "");
  EXPECT_EQ(*parse_create_bucket("<CreateBucketConfiguration><LocationConstraint/></CreateBucketConfiguration>"), "");
  expect_error(parse_create_bucket("<CreateBucketConfiguration><LocationConstraint>a b</LocationConstraint></CreateBucketConfiguration>"),
               "The specified location-constraint is not valid");
  expect_malformed(parse_create_bucket("<CreateBucketConfiguration><LocationConstraint>a</LocationConstraint>"
                                       "<LocationConstraint>b</LocationConstraint></CreateBucketConfiguration>"));
  expect_malformed(parse_create_bucket("<CreateBucketConfiguration><Location><Name>x</Name></Location></CreateBucketConfiguration>"));
  expect_malformed(parse_create_bucket("<CreateBucket/>"));
}

// --- Delete -----------------------------------------------------------------------------------------

TEST(S3Xml, DeleteAsBotoSendsIt) {
  auto r = parse_delete("<Delete" + kNs + "><Object><Key>photos/2024/a.jpg</Key></Object><Object><Key>b</Key>"
                        "<VersionId>3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY</VersionId></Object><Quiet>true</Quiet></Delete>");
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->keys.size(), 2u);
  EXPECT_EQ(r->keys[0].key, "photos/2024/a.jpg");
  EXPECT_EQ(r->keys[0].version_id, "");
  EXPECT_EQ(r->keys[1].key, "b");
  EXPECT_EQ(r->keys[1].version_id, "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY");
  EXPECT_TRUE(r->quiet);

  auto plain = parse_delete(kDecl + "<Delete>\n  <Quiet>false</Quiet>\n  <Object>\n    <Key>k</Key>\n  </Object>\n</Delete>\n");
  ASSERT_TRUE(plain) << plain.error().message;
  EXPECT_FALSE(plain->quiet);
  EXPECT_EQ(plain->keys[0].key, "k");
  EXPECT_FALSE(parse_delete(delete_body("k"))->quiet);
}

TEST(S3Xml, DeleteLimitsAndErrors) {
  std::string thousand = "<Delete>" + repeat("<Object><Key>k</Key></Object>", 1000) + "</Delete>";
  EXPECT_EQ(parse_delete(thousand)->keys.size(), 1000u);
  expect_malformed(parse_delete("<Delete>" + repeat("<Object><Key>k</Key></Object>", 1001) + "</Delete>"));
  expect_malformed(parse_delete("<Delete/>"));
  expect_malformed(parse_delete("<Delete><Quiet>true</Quiet></Delete>"));
  expect_malformed(parse_delete("<Delete><Object/></Delete>"));
  expect_malformed(parse_delete("<Delete><Object><VersionId>v</VersionId></Object></Delete>"));
  expect_malformed(parse_delete("<Delete><Object><Key>a</Key><Key>b</Key></Object></Delete>"));
  expect_malformed(parse_delete("<Delete><Object><Key>a<b/></Key></Object></Delete>"));
  expect_malformed(parse_delete("<Delete><Object>text<Key>a</Key></Object></Delete>"));
  expect_malformed(parse_delete("<Delete><Object><Key>a</Key><ETag>x</ETag></Object></Delete>"));  // conditional delete
  expect_malformed(parse_delete("<Delete><Object><Key>a</Key></Object><Quiet>maybe</Quiet></Delete>"));
  expect_malformed(parse_delete("<Delete><Object><Key>a</Key></Object><Quiet>true</Quiet><Quiet>true</Quiet></Delete>"));
}

// --- CompleteMultipartUpload ------------------------------------------------------------------------

TEST(S3Xml, CompleteMultipart) {
  auto r = parse_complete_multipart("<CompleteMultipartUpload" + kNs +
                                    "><Part><ETag>\"a54357aff0632cce46d942af68356b38\"</ETag><PartNumber>1</PartNumber></Part>"
                                    "<Part><ChecksumCRC32>AAAAAA==</ChecksumCRC32><ETag>&quot;0c78aef83f66abc1fa1e8477f296d394&quot;</ETag>"
                                    "<PartNumber>2</PartNumber></Part><Part><PartNumber> 3 </PartNumber><ETag>bare</ETag></Part>"
                                    "</CompleteMultipartUpload>");
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].part_no, 1);
  EXPECT_EQ((*r)[0].etag, "a54357aff0632cce46d942af68356b38");
  EXPECT_EQ((*r)[1].part_no, 2);
  EXPECT_EQ((*r)[1].etag, "0c78aef83f66abc1fa1e8477f296d394");
  EXPECT_EQ((*r)[2].part_no, 3);
  EXPECT_EQ((*r)[2].etag, "bare");
  // Order and repeats are the engine's to judge.
  auto unordered = parse_complete_multipart(
      "<CompleteMultipartUpload><Part><PartNumber>2</PartNumber><ETag>b</ETag></Part><Part><PartNumber>1</PartNumber><ETag>a</ETag></Part>"
      "<Part><PartNumber>10000</PartNumber><ETag>c</ETag></Part></CompleteMultipartUpload>");
  ASSERT_TRUE(unordered);
  EXPECT_EQ((*unordered)[0].part_no, 2);
  EXPECT_EQ((*unordered)[2].part_no, 10000);
}

TEST(S3Xml, CompleteMultipartErrors) {
  auto part = [](std::string_view number) {
    return "<CompleteMultipartUpload><Part><PartNumber>" + std::string(number) + "</PartNumber><ETag>e</ETag></Part></CompleteMultipartUpload>";
  };
  const std::string range = "Part number must be an integer between 1 and 10000, inclusive";
  expect_error(parse_complete_multipart(part("0")), range);
  expect_error(parse_complete_multipart(part("10001")), range);
  expect_error(parse_complete_multipart(part("2147483647")), range);
  expect_malformed(parse_complete_multipart(part("2147483648")));
  expect_malformed(parse_complete_multipart(part("-1")));
  expect_malformed(parse_complete_multipart(part("1.5")));
  expect_malformed(parse_complete_multipart(part("")));
  expect_malformed(parse_complete_multipart(part("99999999999999999999")));
  expect_malformed(parse_complete_multipart("<CompleteMultipartUpload/>"));
  expect_malformed(parse_complete_multipart("<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>"));
  expect_malformed(parse_complete_multipart("<CompleteMultipartUpload><Part><ETag>e</ETag></Part></CompleteMultipartUpload>"));
  expect_malformed(parse_complete_multipart(
      "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>e</ETag><Size>3</Size></Part></CompleteMultipartUpload>"));
  std::string many = "<CompleteMultipartUpload>" + repeat("<Part><PartNumber>1</PartNumber><ETag>e</ETag></Part>", 10001) + "</CompleteMultipartUpload>";
  expect_malformed(parse_complete_multipart(many));
}

// --- VersioningConfiguration ------------------------------------------------------------------------

TEST(S3Xml, Versioning) {
  EXPECT_EQ(*parse_versioning("<VersioningConfiguration" + kNs + "><Status>Enabled</Status></VersioningConfiguration>"), "Enabled");
  EXPECT_EQ(*parse_versioning("<VersioningConfiguration><Status>Suspended</Status></VersioningConfiguration>"), "Suspended");
  EXPECT_EQ(*parse_versioning("<VersioningConfiguration" + kNs +
                              "><MfaDelete>Disabled</MfaDelete><Status>Enabled</Status></VersioningConfiguration>"),
            "Enabled");
  expect_malformed(parse_versioning("<VersioningConfiguration><Status>enabled</Status></VersioningConfiguration>"));
  expect_malformed(parse_versioning("<VersioningConfiguration><Status>Disabled</Status></VersioningConfiguration>"));
  expect_malformed(parse_versioning("<VersioningConfiguration/>"));
  expect_malformed(parse_versioning("<VersioningConfiguration><MfaDelete>Sometimes</MfaDelete><Status>Enabled</Status></VersioningConfiguration>"));
  expect_malformed(parse_versioning("<VersioningConfiguration><Status>Enabled</Status><Other/></VersioningConfiguration>"));
}

// --- Tagging ----------------------------------------------------------------------------------------

std::string tagging(const std::vector<std::pair<std::string, std::string>>& tags) {
  std::string out = "<Tagging" + kNs + "><TagSet>";
  for (const auto& [k, v] : tags) { out += "<Tag><Key>" + k + "</Key><Value>" + v + "</Value></Tag>"; }
  return out + "</TagSet></Tagging>";
}

std::vector<std::pair<std::string, std::string>> numbered_tags(int n) {
  std::vector<std::pair<std::string, std::string>> out;
  for (int i = 0; i < n; ++i) { out.emplace_back("k" + std::to_string(i), "v"); }
  return out;
}

TEST(S3Xml, Tagging) {
  auto r = parse_tagging(tagging({{"project", "blue"}, {"empty", ""}, {"caf\xC3\xA9", "\xE2\x98\x83 x"}}), 10);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, (Metadata{{"project", "blue"}, {"empty", ""}, {"caf\xC3\xA9", "\xE2\x98\x83 x"}}));
  EXPECT_TRUE(parse_tagging("<Tagging><TagSet/></Tagging>", 10)->empty());
  EXPECT_EQ(parse_tagging(tagging(numbered_tags(10)), 10)->size(), 10u);
  EXPECT_EQ(parse_tagging(tagging(numbered_tags(50)), 50)->size(), 50u);
  // Limits count characters, not bytes.
  EXPECT_TRUE(parse_tagging(tagging({{repeat("\xC3\xA9", 128), repeat("\xE2\x98\x83", 256)}}), 10));
}

TEST(S3Xml, TaggingErrors) {
  expect_error(parse_tagging(tagging(numbered_tags(11)), 10), kTooManyObjectTags);
  expect_error(parse_tagging(tagging(numbered_tags(51)), 50), kTooManyBucketTags);
  expect_error(parse_tagging(tagging({{"a", "1"}, {"a", "2"}}), 10), kDuplicateTagKey);
  expect_error(parse_tagging(tagging({{"", "1"}}), 10), kInvalidTagKey);
  expect_error(parse_tagging(tagging({{repeat("k", 129), "1"}}), 10), kInvalidTagKey);
  expect_error(parse_tagging(tagging({{"k", repeat("v", 257)}}), 10), kInvalidTagValue);
  expect_error(parse_tagging(tagging({{"aws:cloudformation:stack-name", "x"}}), 10), kSystemTagKey);
  expect_malformed(parse_tagging("<Tagging/>", 10));
  expect_malformed(parse_tagging("<Tagging><TagSet/><TagSet/></Tagging>", 10));
  expect_malformed(parse_tagging("<Tagging><TagSet><Tag><Key>k</Key></Tag></TagSet></Tagging>", 10));
  expect_malformed(parse_tagging("<Tagging><TagSet><Tag><Value>v</Value></Tag></TagSet></Tagging>", 10));
  expect_malformed(parse_tagging("<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value><Color>red</Color></Tag></TagSet></Tagging>", 10));
  expect_malformed(parse_tagging("<TagSet/>", 10));
}

TEST(S3Xml, TaggingHeader) {
  EXPECT_TRUE(parse_tagging_header("")->empty());
  EXPECT_EQ(*parse_tagging_header("project=blue&team=storage"), (Metadata{{"project", "blue"}, {"team", "storage"}}));
  EXPECT_EQ(*parse_tagging_header("a%20b=c+d&e=%E2%98%83&flag&empty="),
            (Metadata{{"a b", "c d"}, {"e", "\xE2\x98\x83"}, {"flag", ""}, {"empty", ""}}));
  EXPECT_EQ(*parse_tagging_header("x=a%3Db%26c"), (Metadata{{"x", "a=b&c"}}));
  EXPECT_EQ(*parse_tagging_header("a=1&&b=2&"), (Metadata{{"a", "1"}, {"b", "2"}}));
  std::string ten;
  for (int i = 0; i < 10; ++i) { ten += (i ? "&k" : "k") + std::to_string(i) + "=v"; }
  EXPECT_EQ(parse_tagging_header(ten)->size(), 10u);

  const std::string bad =
      "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.";
  expect_error(parse_tagging_header(ten + "&k10=v"), kTooManyObjectTags);
  expect_error(parse_tagging_header("a=1&a=2"), bad);
  expect_error(parse_tagging_header("a=%zz"), bad);
  expect_error(parse_tagging_header("a=%FF"), bad);
  expect_error(parse_tagging_header("=v"), kInvalidTagKey);
  expect_error(parse_tagging_header(repeat("k", 129) + "=v"), kInvalidTagKey);
  expect_error(parse_tagging_header("k=" + repeat("v", 257)), kInvalidTagValue);
  expect_error(parse_tagging_header("aws%3Afoo=v"), kSystemTagKey);
  expect_error(parse_tagging_header("a%00b=v"), kInvalidTagKey);
  expect_error(parse_tagging_header("k=v%00"), kInvalidTagValue);
  EXPECT_EQ(*parse_tagging_header("k=%01"), (Metadata{{"k", "\x01"}}));  // as the XML form's &#x1;
}

// --- CORSConfiguration ------------------------------------------------------------------------------

TEST(S3Xml, CorsAsTheCliSendsIt) {
  auto r = parse_cors("<CORSConfiguration" + kNs +
                      "><CORSRule><AllowedHeader>*</AllowedHeader><AllowedMethod>PUT</AllowedMethod><AllowedMethod>POST</AllowedMethod>"
                      "<AllowedMethod>DELETE</AllowedMethod><AllowedOrigin>http://www.example.com</AllowedOrigin>"
                      "<ExposeHeader>x-amz-server-side-encryption</ExposeHeader><ExposeHeader>ETag</ExposeHeader>"
                      "<MaxAgeSeconds>3000</MaxAgeSeconds></CORSRule><CORSRule><ID>anyone-reads</ID><AllowedMethod>GET</AllowedMethod>"
                      "<AllowedMethod>HEAD</AllowedMethod><AllowedOrigin>*</AllowedOrigin></CORSRule></CORSConfiguration>");
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->size(), 2u);
  const CorsRule& a = (*r)[0];
  EXPECT_EQ(a.id, "");
  EXPECT_EQ(a.allowed_headers, (std::vector<std::string>{"*"}));
  EXPECT_EQ(a.allowed_methods, (std::vector<std::string>{"PUT", "POST", "DELETE"}));
  EXPECT_EQ(a.allowed_origins, (std::vector<std::string>{"http://www.example.com"}));
  EXPECT_EQ(a.expose_headers, (std::vector<std::string>{"x-amz-server-side-encryption", "ETag"}));
  EXPECT_EQ(a.max_age_seconds, 3000);
  const CorsRule& b = (*r)[1];
  EXPECT_EQ(b.id, "anyone-reads");
  EXPECT_EQ(b.allowed_methods, (std::vector<std::string>{"GET", "HEAD"}));
  EXPECT_EQ(b.allowed_origins, (std::vector<std::string>{"*"}));
  EXPECT_TRUE(b.allowed_headers.empty());
  EXPECT_FALSE(b.max_age_seconds);
}

bool same_rules(const std::vector<CorsRule>& a, const std::vector<CorsRule>& b) {
  if (a.size() != b.size()) { return false; }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].id != b[i].id || a[i].allowed_origins != b[i].allowed_origins || a[i].allowed_methods != b[i].allowed_methods ||
        a[i].allowed_headers != b[i].allowed_headers || a[i].expose_headers != b[i].expose_headers ||
        a[i].max_age_seconds != b[i].max_age_seconds) {
      return false;
    }
  }
  return true;
}

TEST(S3Xml, CorsRoundTrips) {
  std::vector<CorsRule> rules(2);
  rules[0].id = "r&<1>";
  rules[0].allowed_origins = {"https://*.example.com", " spaced "};
  rules[0].allowed_methods = {"GET"};
  rules[0].allowed_headers = {"x-amz-*", "authorization"};
  rules[0].expose_headers = {"ETag"};
  rules[0].max_age_seconds = 0;
  rules[1].allowed_origins = {"http://a\x01\r"};
  rules[1].allowed_methods = {"PUT", "HEAD"};
  std::string xml = render_cors(rules);
  EXPECT_TRUE(xml.starts_with(kDecl + "<CORSConfiguration" + kNs + "><CORSRule><ID>r&amp;&lt;1&gt;</ID>")) << xml;
  auto back = parse_cors(xml);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_TRUE(same_rules(*back, rules)) << xml;
  EXPECT_EQ(render_cors(*back), xml);
}

TEST(S3Xml, CorsErrors) {
  auto rule = [](std::string_view inner) { return "<CORSConfiguration><CORSRule>" + std::string(inner) + "</CORSRule></CORSConfiguration>"; };
  expect_error(parse_cors(rule("<AllowedMethod>PATCH</AllowedMethod><AllowedOrigin>*</AllowedOrigin>")),
               "Found unsupported HTTP method in CORS config. Unsupported method is PATCH");
  expect_error(parse_cors(rule("<AllowedMethod>get</AllowedMethod><AllowedOrigin>*</AllowedOrigin>")),
               "Found unsupported HTTP method in CORS config. Unsupported method is get");
  expect_error(parse_cors(rule("<AllowedMethod>GET</AllowedMethod><AllowedOrigin>http://*.*.com</AllowedOrigin>")),
               "AllowedOrigin \"http://*.*.com\" can not have more than one wildcard.");
  expect_error(parse_cors(rule("<AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin><AllowedHeader>x-*-*</AllowedHeader>")),
               "AllowedHeader \"x-*-*\" can not have more than one wildcard.");
  expect_malformed(parse_cors(rule("<AllowedMethod>GET</AllowedMethod>")));
  expect_malformed(parse_cors(rule("<AllowedOrigin>*</AllowedOrigin>")));
  expect_malformed(parse_cors(rule("<AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin><MaxAgeSeconds>-1</MaxAgeSeconds>")));
  expect_malformed(parse_cors(rule("<AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin><MaxAgeSeconds>1e3</MaxAgeSeconds>")));
  expect_malformed(parse_cors(rule("<AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin><ID>" + repeat("i", 256) + "</ID>")));
  expect_malformed(parse_cors(rule("<AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin><Extra/>")));
  expect_malformed(parse_cors("<CORSConfiguration/>"));
  std::string one = "<CORSRule><AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin></CORSRule>";
  EXPECT_EQ(parse_cors("<CORSConfiguration>" + repeat(one, 100) + "</CORSConfiguration>")->size(), 100u);
  expect_malformed(parse_cors("<CORSConfiguration>" + repeat(one, 101) + "</CORSConfiguration>"));
}

// --- LifecycleConfiguration -------------------------------------------------------------------------

std::string lifecycle(std::string_view rules) { return "<LifecycleConfiguration" + kNs + ">" + std::string(rules) + "</LifecycleConfiguration>"; }

bool same_rules(const std::vector<LifecycleRule>& a, const std::vector<LifecycleRule>& b) {
  if (a.size() != b.size()) { return false; }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].id != b[i].id || a[i].enabled != b[i].enabled || a[i].prefix != b[i].prefix || a[i].tags != b[i].tags ||
        a[i].expiration_days != b[i].expiration_days || a[i].expiration_date != b[i].expiration_date ||
        a[i].noncurrent_days != b[i].noncurrent_days || a[i].abort_upload_days != b[i].abort_upload_days ||
        a[i].expired_delete_markers != b[i].expired_delete_markers) {
      return false;
    }
  }
  return true;
}

TEST(S3Xml, LifecycleAsBotoSendsIt) {
  auto r = parse_lifecycle(lifecycle(
      "<Rule><Expiration><Days>30</Days></Expiration><ID>logs</ID><Filter><Prefix>logs/</Prefix></Filter><Status>Enabled</Status>"
      "<NoncurrentVersionExpiration><NoncurrentDays>7</NoncurrentDays></NoncurrentVersionExpiration>"
      "<AbortIncompleteMultipartUpload><DaysAfterInitiation>3</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>"
      "<Rule><Expiration><Date>2030-01-01T00:00:00Z</Date></Expiration><ID>tagged</ID><Filter><And><Prefix>tmp/</Prefix>"
      "<Tag><Key>class</Key><Value>scratch</Value></Tag><Tag><Key>owner</Key><Value>ci</Value></Tag></And></Filter>"
      "<Status>Disabled</Status></Rule>"
      "<Rule><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration><ID>markers</ID><Filter/>"
      "<Status>Enabled</Status></Rule>"
      "<Rule><ID>one-tag</ID><Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter><Status>Enabled</Status>"
      "<Expiration><Date>2030-06-15T00:00:00.000Z</Date></Expiration></Rule>"));
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->size(), 4u);
  const LifecycleRule& logs = (*r)[0];
  EXPECT_EQ(logs.id, "logs");
  EXPECT_TRUE(logs.enabled);
  EXPECT_EQ(logs.prefix, "logs/");
  EXPECT_TRUE(logs.tags.empty());
  EXPECT_EQ(logs.expiration_days, 30);
  EXPECT_FALSE(logs.expiration_date);
  EXPECT_EQ(logs.noncurrent_days, 7);
  EXPECT_EQ(logs.abort_upload_days, 3);
  EXPECT_FALSE(logs.expired_delete_markers);
  const LifecycleRule& tagged = (*r)[1];
  EXPECT_FALSE(tagged.enabled);
  EXPECT_EQ(tagged.prefix, "tmp/");
  EXPECT_EQ(tagged.tags, (Metadata{{"class", "scratch"}, {"owner", "ci"}}));
  EXPECT_EQ(tagged.expiration_date, 1893456000);  // 2030-01-01T00:00:00Z
  EXPECT_FALSE(tagged.expiration_days);
  const LifecycleRule& markers = (*r)[2];
  EXPECT_TRUE(markers.expired_delete_markers);
  EXPECT_EQ(markers.prefix, "");
  EXPECT_EQ((*r)[3].tags, (Metadata{{"k", "v"}}));
  EXPECT_EQ((*r)[3].expiration_date, 1907712000);  // 2030-06-15
}

TEST(S3Xml, LifecycleOlderFormsAndDates) {
  // The pre-Filter top-level Prefix, and no filter at all.
  auto old = parse_lifecycle(lifecycle("<Rule><Prefix>old/</Prefix><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>"
                                       "<Rule><Status>Enabled</Status><Expiration><Days>2</Days></Expiration></Rule>"));
  ASSERT_TRUE(old) << old.error().message;
  EXPECT_EQ((*old)[0].prefix, "old/");
  EXPECT_EQ((*old)[1].prefix, "");
  auto date = [](std::string_view d) {
    return parse_lifecycle(lifecycle("<Rule><Status>Enabled</Status><Expiration><Date>" + std::string(d) + "</Date></Expiration></Rule>"));
  };
  EXPECT_EQ(date("1970-01-01T00:00:00Z")->front().expiration_date, 0);
  EXPECT_EQ(date("2024-02-29")->front().expiration_date, 1709164800);
  EXPECT_EQ(date("2030-01-01T00:00:00+00:00")->front().expiration_date, 1893456000);
  EXPECT_EQ(date("9999-12-31T00:00:00.000000Z")->front().expiration_date, 253402214400);
  expect_error(date("2030-01-01T12:00:00Z"), "'Date' must be at midnight GMT");
  expect_error(date("2030-01-01T00:00:00.5Z"), "'Date' must be at midnight GMT");
  expect_malformed(date("2030-02-30T00:00:00Z"));
  expect_malformed(date("2023-02-29T00:00:00Z"));
  expect_malformed(date("1969-12-31T00:00:00Z"));
  expect_malformed(date("2030-01-01T00:00:00"));
  expect_malformed(date("2030-01-01T00:00:00+01:00"));
  expect_malformed(date("2030-1-1"));
  expect_malformed(date("tomorrow"));
  expect_malformed(date(""));
}

TEST(S3Xml, LifecycleErrors) {
  auto rule = [](std::string_view inner) { return parse_lifecycle(lifecycle("<Rule>" + std::string(inner) + "</Rule>")); };
  const std::string on = "<Status>Enabled</Status>";
  const std::string days = "<Expiration><Days>1</Days></Expiration>";
  expect_error(rule(on), "At least one action needs to be specified in a rule");
  expect_error(rule(on + "<Expiration><ExpiredObjectDeleteMarker>false</ExpiredObjectDeleteMarker></Expiration>"),
               "At least one action needs to be specified in a rule");
  expect_error(rule(on + "<Transition><Days>30</Days><StorageClass>GLACIER</StorageClass></Transition>"),
               "Lifecycle transitions are not supported: Ciel has one storage class");
  expect_error(rule(on + days + "<NoncurrentVersionTransition><NoncurrentDays>3</NoncurrentDays></NoncurrentVersionTransition>"),
               "Lifecycle transitions are not supported: Ciel has one storage class");
  expect_error(rule(on + days + "<Filter><ObjectSizeGreaterThan>100</ObjectSizeGreaterThan></Filter>"),
               "Lifecycle filters on object size are not supported");
  expect_error(rule(on + days + "<Filter><And><Prefix>a</Prefix><ObjectSizeLessThan>5</ObjectSizeLessThan></And></Filter>"),
               "Lifecycle filters on object size are not supported");
  expect_error(rule(on + "<NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays><NewerNoncurrentVersions>2</NewerNoncurrentVersions>"
                         "</NoncurrentVersionExpiration>"),
               "NewerNoncurrentVersions is not supported");
  expect_error(rule(on + "<Expiration><Days>0</Days></Expiration>"), "'Days' for Expiration action must be a positive integer");
  expect_error(rule(on + "<NoncurrentVersionExpiration><NoncurrentDays>0</NoncurrentDays></NoncurrentVersionExpiration>"),
               "'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer");
  expect_error(rule(on + "<AbortIncompleteMultipartUpload><DaysAfterInitiation>0</DaysAfterInitiation></AbortIncompleteMultipartUpload>"),
               "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer");
  expect_error(rule(on + "<Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter>"
                         "<Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>"),
               "ExpiredObjectDeleteMarker cannot be specified with object tags");
  expect_error(rule(on + "<Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter>"
                         "<AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation></AbortIncompleteMultipartUpload>"),
               "AbortIncompleteMultipartUpload cannot be specified with Tags.");
  expect_error(rule(on + days + "<Filter><And><Tag><Key>k</Key><Value>1</Value></Tag><Tag><Key>k</Key><Value>2</Value></Tag></And></Filter>"),
               "Duplicate Tag Keys are not allowed.");
  expect_error(rule(on + days + "<Filter><Tag><Key></Key><Value>v</Value></Tag></Filter>"), kInvalidTagKey);
  expect_error(rule(on + days + "<ID>" + repeat("i", 256) + "</ID>"), "ID length should not exceed allowed limit of 255");
  expect_error(rule(on + days + "<Prefix>" + repeat("p", 1025) + "</Prefix>"), "The lifecycle rule prefix is longer than 1024 bytes");
  expect_error(parse_lifecycle(lifecycle("<Rule><ID>a</ID>" + on + days + "</Rule><Rule><ID>a</ID>" + on + days + "</Rule>")),
               "Rule ID must be unique. Found same ID for more than one rule");

  expect_malformed(rule(days));                                                         // no Status
  expect_malformed(rule("<Status>On</Status>" + days));
  expect_malformed(rule(on + "<Expiration><Days>x</Days></Expiration>"));
  expect_malformed(rule(on + "<Expiration><Days>-3</Days></Expiration>"));
  expect_malformed(rule(on + "<Expiration/>"));
  expect_malformed(rule(on + "<Expiration><Days>1</Days><Date>2030-01-01T00:00:00Z</Date></Expiration>"));
  expect_malformed(rule(on + "<Expiration><Days>1</Days><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>"));
  expect_malformed(rule(on + "<Expiration><ExpiredObjectDeleteMarker>yes</ExpiredObjectDeleteMarker></Expiration>"));
  expect_malformed(rule(on + "<NoncurrentVersionExpiration/>"));
  expect_malformed(rule(on + "<AbortIncompleteMultipartUpload/>"));
  expect_malformed(rule(on + days + "<Filter><Prefix>a</Prefix></Filter><Prefix>a</Prefix>"));
  expect_malformed(rule(on + days + "<Filter><Prefix>a</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></Filter>"));
  expect_malformed(rule(on + days + "<Filter><Tag><Key>k</Key></Tag></Filter>"));
  expect_malformed(rule(on + days + "<Frobnicate/>"));
  expect_malformed(parse_lifecycle("<LifecycleConfiguration/>"));
  std::string one = "<Rule>" + on + days + "</Rule>";
  EXPECT_EQ(parse_lifecycle(lifecycle(repeat(one, 1000)))->size(), 1000u);
  expect_malformed(parse_lifecycle(lifecycle(repeat(one, 1001))));
}

TEST(S3Xml, LifecycleRoundTrips) {
  std::vector<LifecycleRule> rules(5);
  rules[0].id = "all";
  rules[0].expiration_days = 30;
  rules[0].noncurrent_days = 5;
  rules[0].abort_upload_days = 2;
  rules[1].prefix = "p/<&>";
  rules[1].enabled = false;
  rules[1].expiration_date = 1893456000;
  rules[2].tags = {{"k", "v"}};
  rules[2].expiration_days = 1;
  rules[3].prefix = "both/";
  rules[3].tags = {{"a", "1"}, {"b", ""}};
  rules[3].noncurrent_days = 9;
  rules[4].expired_delete_markers = true;
  std::string xml = render_lifecycle(rules);
  EXPECT_NE(xml.find("<Date>2030-01-01T00:00:00.000Z</Date>"), std::string::npos) << xml;
  EXPECT_NE(xml.find("<Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter>"), std::string::npos) << xml;
  EXPECT_NE(xml.find("<Filter><And><Prefix>both/</Prefix><Tag>"), std::string::npos) << xml;
  EXPECT_NE(xml.find("<ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker>"), std::string::npos) << xml;
  auto back = parse_lifecycle(xml);
  ASSERT_TRUE(back) << back.error().message << "\n" << xml;
  EXPECT_TRUE(same_rules(*back, rules)) << xml;
  EXPECT_EQ(render_lifecycle(*back), xml);
}

// --- AccessControlPolicy ----------------------------------------------------------------------------

std::string grant_user(std::string_view id, std::string_view perm) {
  return "<Grant><Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"CanonicalUser\"><ID>" + std::string(id) +
         "</ID><DisplayName>someone</DisplayName></Grantee><Permission>" + std::string(perm) + "</Permission></Grant>";
}
std::string grant_group(std::string_view group, std::string_view perm) {
  return "<Grant><Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"Group\"><URI>http://acs.amazonaws.com/groups/global/" +
         std::string(group) + "</URI></Grantee><Permission>" + std::string(perm) + "</Permission></Grant>";
}
std::string acl(std::string_view grants, std::string_view owner = "<Owner><ID>p1</ID></Owner>") {
  return "<AccessControlPolicy" + kNs + "><AccessControlList>" + std::string(grants) + "</AccessControlList>" + std::string(owner) +
         "</AccessControlPolicy>";
}

TEST(S3Xml, AccessControlPolicyMapsToCannedAcls) {
  const std::string owner = grant_user("p1", "FULL_CONTROL");
  EXPECT_EQ(*parse_access_control_policy(acl(owner), "p1"), "private");
  EXPECT_EQ(*parse_access_control_policy(acl(owner + grant_group("AllUsers", "READ")), "p1"), "public-read");
  EXPECT_EQ(*parse_access_control_policy(acl(grant_group("AllUsers", "WRITE") + owner + grant_group("AllUsers", "READ")), "p1"),
            "public-read-write");
  EXPECT_EQ(*parse_access_control_policy(acl(owner + grant_group("AuthenticatedUsers", "READ")), "p1"), "authenticated-read");
  // Without Owner, without xsi:type (inferred from ID or URI), a grant repeated, another prefix.
  EXPECT_EQ(*parse_access_control_policy(acl(owner + owner, ""), "p1"), "private");
  EXPECT_EQ(*parse_access_control_policy(
                acl("<Grant><Grantee><ID>p1</ID></Grantee><Permission>FULL_CONTROL</Permission></Grant>"
                    "<Grant><Grantee><URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee><Permission>READ</Permission></Grant>"),
                "p1"),
            "public-read");
  EXPECT_EQ(*parse_access_control_policy(
                acl("<Grant><Grantee xmlns:i=\"http://www.w3.org/2001/XMLSchema-instance\" i:type=\"CanonicalUser\"><ID>p1</ID></Grantee>"
                    "<Permission>FULL_CONTROL</Permission></Grant>"),
                "p1"),
            "private");
}

TEST(S3Xml, AccessControlPolicyErrors) {
  const std::string owner = grant_user("p1", "FULL_CONTROL");
  expect_error(parse_access_control_policy(acl(owner + grant_user("p2", "READ")), "p1"), kAclNotCanned);
  expect_error(parse_access_control_policy(acl(owner + grant_group("AllUsers", "WRITE")), "p1"), kAclNotCanned);
  expect_error(parse_access_control_policy(acl(owner + grant_group("AllUsers", "READ_ACP")), "p1"), kAclNotCanned);
  expect_error(parse_access_control_policy(acl(owner + grant_group("LogDelivery", "WRITE")), "p1"), kAclNotCanned);
  expect_error(parse_access_control_policy(acl(grant_user("p1", "READ")), "p1"), kAclNotCanned);
  expect_error(parse_access_control_policy(acl(""), "p1"), kAclNotCanned);
  expect_error(parse_access_control_policy(acl(owner + "<Grant><Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
                                                      "xsi:type=\"AmazonCustomerByEmail\"><EmailAddress>a@example.com</EmailAddress>"
                                                      "</Grantee><Permission>READ</Permission></Grant>"),
                                           "p1"),
               kAclNotCanned);
  expect_error(parse_access_control_policy(acl(owner, "<Owner><ID>p2</ID></Owner>"), "p1"), "Invalid id");
  expect_malformed(parse_access_control_policy(acl(grant_user("p1", "EVERYTHING")), "p1"));
  expect_malformed(parse_access_control_policy(acl("<Grant><Permission>READ</Permission></Grant>"), "p1"));
  expect_malformed(parse_access_control_policy(acl("<Grant><Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
                                                   "xsi:type=\"Robot\"><ID>p1</ID></Grantee><Permission>READ</Permission></Grant>"),
                                               "p1"));
  expect_malformed(parse_access_control_policy(acl("<Grant><Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
                                                   "xsi:type=\"Group\"><ID>p1</ID></Grantee><Permission>READ</Permission></Grant>"),
                                               "p1"));
  expect_malformed(parse_access_control_policy("<AccessControlPolicy><Owner><ID>p1</ID></Owner></AccessControlPolicy>", "p1"));
  expect_malformed(parse_access_control_policy(acl(repeat(owner, 101)), "p1"));
}

TEST(S3Xml, RendersCannedAclsThatParseBack) {
  std::string priv = render_access_control_policy("private", "p1", "alice & co");
  EXPECT_EQ(priv, kDecl + "<AccessControlPolicy" + kNs + "><Owner><ID>p1</ID><DisplayName>alice &amp; co</DisplayName></Owner>"
                  "<AccessControlList><Grant><Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"CanonicalUser\">"
                  "<ID>p1</ID><DisplayName>alice &amp; co</DisplayName></Grantee><Permission>FULL_CONTROL</Permission></Grant>"
                  "</AccessControlList></AccessControlPolicy>");
  std::string prw = render_access_control_policy("public-read-write", "p1", "alice");
  EXPECT_NE(prw.find("xsi:type=\"Group\"><URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee><Permission>WRITE</Permission>"),
            std::string::npos);
  for (std::string_view canned : {"private", "public-read", "public-read-write", "authenticated-read"}) {
    auto back = parse_access_control_policy(render_access_control_policy(canned, "0123456789abcdef0123456789abcdef", "n"),
                                            "0123456789abcdef0123456789abcdef");
    ASSERT_TRUE(back) << canned << ": " << back.error().message;
    EXPECT_EQ(*back, canned);
  }
}

// --- XmlWriter --------------------------------------------------------------------------------------

TEST(S3Xml, WriterBuildsDocuments) {
  XmlWriter w("ListBucketResult");
  w.leaf("Name", "photos");
  w.open("Contents");
  w.leaf("Key", "a<b>&\"c\"'d'");
  w.leaf("Size", std::uint64_t{18446744073709551615ull});
  w.leaf_bool("IsLatest", true);
  w.close();
  w.open("CommonPrefixes");
  w.leaf("Prefix", "");
  w.leaf_bool("Truncated", false);  // left open: finish() closes it
  EXPECT_EQ(w.finish(), kDecl + "<ListBucketResult" + kNs + "><Name>photos</Name><Contents><Key>a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;</Key>"
                        "<Size>18446744073709551615</Size><IsLatest>true</IsLatest></Contents><CommonPrefixes><Prefix></Prefix>"
                        "<Truncated>false</Truncated></CommonPrefixes></ListBucketResult>");
  XmlWriter bare("Error", false);
  bare.leaf("Code", "NoSuchKey");
  EXPECT_EQ(bare.finish(), kDecl + "<Error><Code>NoSuchKey</Code></Error>");
}

TEST(S3Xml, EscapesControlCharactersAndKeepsUtf8) {
  EXPECT_EQ(xml_escape("plain text/\xE2\x98\x83\xF0\x9F\x98\x80"), "plain text/\xE2\x98\x83\xF0\x9F\x98\x80");
  EXPECT_EQ(xml_escape("&<>\"'"), "&amp;&lt;&gt;&quot;&apos;");
  EXPECT_EQ(xml_escape(std::string("a\x01z\x1F\x7F\t\n\r", 8)), "a&#x1;z&#x1F;\x7F\t\n&#xD;");
  EXPECT_EQ(xml_escape(std::string("\0", 1)), "&#x0;");
  // Bytes that are not UTF-8 become U+FFFD, so the document stays UTF-8.
  EXPECT_EQ(xml_escape("a\xFF" "b\xC3"), "a\xEF\xBF\xBD" "b\xEF\xBF\xBD");
  EXPECT_EQ(xml_escape("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // a surrogate
}

TEST(S3Xml, EscapedTextParsesBack) {
  for (std::string key : {std::string("a\x01\x02\x1F" "b"), std::string("\r\n\t "), std::string(" lead and trail "),
                          std::string("]]><![CDATA[x"), std::string("&amp;&#38;"), std::string("\xE2\x98\x83/\xF0\x9F\x98\x80")}) {
    XmlWriter w("Delete", false);
    w.open("Object");
    w.leaf("Key", key);
    auto r = parse_delete(w.finish());
    ASSERT_TRUE(r) << key << ": " << r.error().message;
    EXPECT_EQ(r->keys[0].key, key);
  }
}

}  // namespace
}  // namespace ciel::object::s3
