// The WebDAV request parsers (box/dav/xml.h) and the Destination and href helpers
// (box/dav/common.h), on the bodies and headers real clients send and on malformed ones.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "box/dav/common.h"
#include "box/dav/xml.h"
#include "support/store_site.h"

namespace ciel::box::dav {
namespace {

using test::describe;

#define EXPECT_INVALID(expr)                                                                  \
  do {                                                                                        \
    const auto& ciel_r_ = (expr);                                                             \
    ASSERT_FALSE(ciel_r_) << #expr << " was accepted";                                       \
    EXPECT_EQ(ciel_r_.error().code, Errc::invalid_argument) << describe(ciel_r_.error());     \
    EXPECT_FALSE(ciel_r_.error().message.empty());                                            \
  } while (0)

// --- PROPFIND ------------------------------------------------------------------------------------

// What the Nextcloud desktop client sends for a folder listing.
constexpr std::string_view kNextcloudPropfind = R"(<?xml version="1.0" encoding="utf-8"?>
<d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns" xmlns:nc="http://nextcloud.org/ns">
  <d:prop>
    <d:resourcetype/>
    <d:getlastmodified/>
    <d:getcontentlength/>
    <d:getetag/>
    <oc:id/>
    <oc:fileid/>
    <oc:permissions/>
    <oc:size/>
    <nc:has-preview/>
  </d:prop>
</d:propfind>
)";

TEST(DavPropfind, PropWithPrefixes) {
  auto r = parse_propfind(kNextcloudPropfind);
  ASSERT_OK(r);
  EXPECT_EQ(r->kind, PropfindRequest::Kind::prop);
  std::vector<PropName> want{{"DAV:", "resourcetype"},       {"DAV:", "getlastmodified"}, {"DAV:", "getcontentlength"},
                             {"DAV:", "getetag"},            {std::string(kOcNs), "id"},  {std::string(kOcNs), "fileid"},
                             {std::string(kOcNs), "permissions"}, {std::string(kOcNs), "size"}, {std::string(kNcNs), "has-preview"}};
  EXPECT_EQ(r->props, want);
  EXPECT_TRUE(r->include.empty());
}

TEST(DavPropfind, DefaultNamespaceAndLocalDeclarations) {
  auto r = parse_propfind(R"(<propfind xmlns="DAV:"><prop><getetag/><x:color xmlns:x="urn:x"/><plain xmlns="urn:p"/></prop></propfind>)");
  ASSERT_OK(r);
  EXPECT_EQ(r->kind, PropfindRequest::Kind::prop);
  EXPECT_EQ(r->props, (std::vector<PropName>{{"DAV:", "getetag"}, {"urn:x", "color"}, {"urn:p", "plain"}}));
  // Prefixes are only names: any prefix bound to DAV: is DAV:.
  r = parse_propfind(R"(<Z:propfind xmlns:Z="DAV:"><Z:prop><Z:displayname/></Z:prop></Z:propfind>)");
  ASSERT_OK(r);
  EXPECT_EQ(r->props, (std::vector<PropName>{{"DAV:", "displayname"}}));
}

TEST(DavPropfind, AllpropPropnameAndEmpty) {
  auto r = parse_propfind(R"(<d:propfind xmlns:d="DAV:"><d:allprop/></d:propfind>)");
  ASSERT_OK(r);
  EXPECT_EQ(r->kind, PropfindRequest::Kind::allprop);
  EXPECT_TRUE(r->props.empty());

  r = parse_propfind(R"(<d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns"><d:allprop/><d:include><oc:checksums/></d:include></d:propfind>)");
  ASSERT_OK(r);
  EXPECT_EQ(r->kind, PropfindRequest::Kind::allprop);
  EXPECT_EQ(r->include, (std::vector<PropName>{{std::string(kOcNs), "checksums"}}));

  r = parse_propfind(R"(<?xml version="1.0"?><propfind xmlns="DAV:"><propname/></propfind>)");
  ASSERT_OK(r);
  EXPECT_EQ(r->kind, PropfindRequest::Kind::propname);

  for (std::string_view empty : {"", " ", "\r\n\t \n"}) {
    r = parse_propfind(empty);
    ASSERT_OK(r);
    EXPECT_EQ(r->kind, PropfindRequest::Kind::allprop);
  }
}

TEST(DavPropfind, RefusesWhatIsNotAPropfind) {
  EXPECT_INVALID(parse_propfind("<d:propfind xmlns:d=\"DAV:\"><d:prop>"));            // not well-formed
  EXPECT_INVALID(parse_propfind("not xml at all"));
  EXPECT_INVALID(parse_propfind(R"(<d:propertyupdate xmlns:d="DAV:"/>)"));             // wrong root
  EXPECT_INVALID(parse_propfind(R"(<propfind xmlns="urn:not-dav"><allprop/></propfind>)"));  // right name, wrong namespace
  EXPECT_INVALID(parse_propfind(R"(<propfind><allprop/></propfind>)"));                // no namespace at all
  EXPECT_INVALID(parse_propfind(R"(<d:propfind xmlns:d="DAV:"><d:prop><x:foo/></d:prop></d:propfind>)"));  // undeclared prefix
  EXPECT_INVALID(parse_propfind(R"(<d:propfind xmlns:d="DAV:"><d:prop><p:x xmlns:p=""/></d:prop></d:propfind>)"));
  EXPECT_INVALID(parse_propfind(R"(<d:propfind xmlns:d="DAV:" xmlns:p=""><d:allprop/></d:propfind>)"));
  EXPECT_INVALID(parse_propfind(R"(<d:propfind xmlns:d="DAV:"></d:propfind>)"));       // neither allprop, propname nor prop
  EXPECT_INVALID(parse_propfind(R"(<d:propfind xmlns:d="DAV:"><d:allprop/></d:propfind><d:propfind xmlns:d="DAV:"/>)"));
  EXPECT_INVALID(parse_propfind(R"(<!DOCTYPE d [<!ENTITY e "x">]><d:propfind xmlns:d="DAV:"><d:allprop/></d:propfind>)"));
  // What pugixml would take but is not XML: bytes that are not UTF-8, control characters, and
  // references to characters XML has not.
  EXPECT_INVALID(parse_propfind("<d:propfind xmlns:d=\"DAV:\" xmlns:x=\"urn:\xFF\"><d:prop><x:a/></d:prop></d:propfind>"));
  EXPECT_INVALID(parse_propfind("<d:propfind xmlns:d=\"DAV:\"><d:prop><d:a\x01/></d:prop></d:propfind>"));
  EXPECT_INVALID(parse_propfind(std::string("<d:propfind xmlns:d=\"DAV:\"><d:allprop/>") + '\0' + "</d:propfind>"));
  std::string deep = R"(<d:propfind xmlns:d="DAV:"><d:prop>)";
  for (int i = 0; i < 100; ++i) { deep += "<d:x>"; }
  for (int i = 0; i < 100; ++i) { deep += "</d:x>"; }
  deep += "</d:prop></d:propfind>";
  EXPECT_INVALID(parse_propfind(deep));
}

// --- PROPPATCH -----------------------------------------------------------------------------------

TEST(DavProppatch, KeepsDocumentOrder) {
  auto r = parse_proppatch(R"(<?xml version="1.0"?>
<d:propertyupdate xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns">
  <d:set><d:prop><oc:favorite>1</oc:favorite></d:prop></d:set>
  <d:remove><d:prop><oc:tags/><d:displayname/></d:prop></d:remove>
  <d:set><d:prop><oc:favorite>0</oc:favorite><x:color xmlns:x="urn:x">red</x:color></d:prop></d:set>
</d:propertyupdate>)");
  ASSERT_OK(r);
  ASSERT_EQ(r->size(), 5u);
  EXPECT_TRUE((*r)[0].set);
  EXPECT_EQ((*r)[0].name, (PropName{std::string(kOcNs), "favorite"}));
  EXPECT_FALSE((*r)[1].set);
  EXPECT_EQ((*r)[1].name, (PropName{std::string(kOcNs), "tags"}));
  EXPECT_TRUE((*r)[1].element.empty());
  EXPECT_FALSE((*r)[2].set);
  EXPECT_EQ((*r)[2].name, (PropName{"DAV:", "displayname"}));
  EXPECT_TRUE((*r)[3].set);
  EXPECT_EQ((*r)[3].name, (PropName{std::string(kOcNs), "favorite"}));
  EXPECT_NE((*r)[3].element.find(">0<"), std::string::npos) << (*r)[3].element;
  EXPECT_EQ((*r)[4].name, (PropName{"urn:x", "color"}));
}

// Each set element declares every namespace it uses, so it can be stored and sent back alone.
TEST(DavProppatch, SetElementsAreSelfContained) {
  auto r = parse_proppatch(R"(<D:propertyupdate xmlns:D="DAV:" xmlns:Z="http://ns.example.com/z/" xmlns:y="urn:y">
  <D:set><D:prop><Z:Authors><Z:Author y:role="lead">Jim Whitehead</Z:Author><y:Author>Roy Fielding</y:Author></Z:Authors></D:prop></D:set>
</D:propertyupdate>)");
  ASSERT_OK(r);
  ASSERT_EQ(r->size(), 1u);
  const std::string& el = (*r)[0].element;
  EXPECT_TRUE(el.starts_with("<Z:Authors")) << el;
  EXPECT_NE(el.find(R"(xmlns:Z="http://ns.example.com/z/")"), std::string::npos) << el;
  EXPECT_NE(el.find(R"(xmlns:y="urn:y")"), std::string::npos) << el;
  EXPECT_EQ(el.find("xmlns:D"), std::string::npos) << el;  // only what it uses
  EXPECT_NE(el.find("Jim Whitehead"), std::string::npos) << el;

  // Put alone into a document that declares nothing, it still names the same property.
  auto again = parse_proppatch(R"(<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop>)" + el + "</D:prop></D:set></D:propertyupdate>");
  ASSERT_OK(again);
  ASSERT_EQ(again->size(), 1u);
  EXPECT_EQ((*again)[0].name, (PropName{"http://ns.example.com/z/", "Authors"}));
  EXPECT_EQ((*again)[0].element, el);

  // Character references come back as the characters.
  r = parse_proppatch(R"(<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:x>caf&#233; &#x1F600;&#9;</D:x></D:prop></D:set></D:propertyupdate>)");
  ASSERT_OK(r);
  EXPECT_EQ((*r)[0].element, "<D:x xmlns:D=\"DAV:\">caf\xC3\xA9 \xF0\x9F\x98\x80\t</D:x>");

  // A prefix redeclared inside the element does not change what it means elsewhere in it.
  r = parse_proppatch(R"(<D:propertyupdate xmlns:D="DAV:" xmlns:p="urn:outer">
  <D:set><D:prop><D:e><p:a xmlns:p="urn:inner"/><p:b/></D:e></D:prop></D:set></D:propertyupdate>)");
  ASSERT_OK(r);
  ASSERT_EQ(r->size(), 1u);
  EXPECT_NE((*r)[0].element.find(R"(<D:e xmlns:D="DAV:" xmlns:p="urn:outer">)"), std::string::npos) << (*r)[0].element;
  EXPECT_NE((*r)[0].element.find(R"(<p:a xmlns:p="urn:inner")"), std::string::npos) << (*r)[0].element;

  // A default namespace is carried too.
  r = parse_proppatch(R"(<propertyupdate xmlns="DAV:"><set><prop><displayname>Holiday &amp; more</displayname></prop></set></propertyupdate>)");
  ASSERT_OK(r);
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].name, (PropName{"DAV:", "displayname"}));
  EXPECT_NE((*r)[0].element.find(R"(xmlns="DAV:")"), std::string::npos) << (*r)[0].element;
  EXPECT_NE((*r)[0].element.find("Holiday &amp; more"), std::string::npos) << (*r)[0].element;
}

TEST(DavProppatch, RefusesMalformedUpdates) {
  EXPECT_INVALID(parse_proppatch(""));
  EXPECT_INVALID(parse_proppatch("<d:propertyupdate xmlns:d=\"DAV:\">"));
  EXPECT_INVALID(parse_proppatch(R"(<d:propfind xmlns:d="DAV:"><d:allprop/></d:propfind>)"));
  EXPECT_INVALID(parse_proppatch(R"(<d:propertyupdate xmlns:d="DAV:"/>)"));  // names no property
  EXPECT_INVALID(parse_proppatch(R"(<d:propertyupdate xmlns:d="DAV:"><d:set><d:prop/></d:set></d:propertyupdate>)"));
  EXPECT_INVALID(parse_proppatch(R"(<d:propertyupdate xmlns:d="DAV:"><d:change><d:prop><d:x/></d:prop></d:change></d:propertyupdate>)"));
  EXPECT_INVALID(parse_proppatch(R"(<d:propertyupdate xmlns:d="DAV:"><d:set><d:prop><q:x>1</q:x></d:prop></d:set></d:propertyupdate>)"));
  EXPECT_INVALID(parse_proppatch(R"(<d:propertyupdate xmlns:d="DAV:"><d:set><d:prop><p:x xmlns:p="">1</p:x></d:prop></d:set></d:propertyupdate>)"));
  for (std::string_view ref : {"&#0;", "&#x1;", "&#xD800;", "&#xFFFE;", "&#1114112;", "&#;", "&#x;", "&#12a;"}) {
    SCOPED_TRACE(std::string(ref));
    EXPECT_INVALID(parse_proppatch(R"(<d:propertyupdate xmlns:d="DAV:"><d:set><d:prop><d:x>)" + std::string(ref) +
                                   "</d:x></d:prop></d:set></d:propertyupdate>"));
  }
  EXPECT_INVALID(parse_proppatch("<d:propertyupdate xmlns:d=\"DAV:\"><d:set><d:prop><d:x>caf\xC3</d:x></d:prop></d:set></d:propertyupdate>"));
  // A value that uses a prefix nobody declared could not be sent back as XML.
  EXPECT_INVALID(parse_proppatch(R"(<d:propertyupdate xmlns:d="DAV:"><d:set><d:prop><d:x><q:inner/></d:x></d:prop></d:set></d:propertyupdate>)"));
  EXPECT_INVALID(parse_proppatch(R"(<d:propertyupdate xmlns:d="DAV:"><d:set><d:prop><d:x q:a="1"/></d:prop></d:set></d:propertyupdate>)"));
}

// --- LOCK ----------------------------------------------------------------------------------------

TEST(DavLockinfo, ExclusiveWithOwner) {
  auto r = parse_lockinfo(R"(<?xml version="1.0" encoding="utf-8" ?>
<D:lockinfo xmlns:D='DAV:'>
  <D:lockscope><D:exclusive/></D:lockscope>
  <D:locktype><D:write/></D:locktype>
  <D:owner><D:href>http://example.org/~ejw/contact.html</D:href></D:owner>
</D:lockinfo>)");
  ASSERT_OK(r);
  ASSERT_TRUE(r->has_value());
  EXPECT_TRUE((*r)->exclusive);
  const std::string& owner = (*r)->owner_xml;
  EXPECT_TRUE(owner.starts_with("<D:owner")) << owner;
  EXPECT_NE(owner.find(R"(xmlns:D="DAV:")"), std::string::npos) << owner;
  EXPECT_NE(owner.find("<D:href>http://example.org/~ejw/contact.html</D:href>"), std::string::npos) << owner;
}

TEST(DavLockinfo, SharedWithoutOwnerAndRefresh) {
  auto r = parse_lockinfo(R"(<lockinfo xmlns="DAV:"><lockscope><shared/></lockscope><locktype><write/></locktype></lockinfo>)");
  ASSERT_OK(r);
  ASSERT_TRUE(r->has_value());
  EXPECT_FALSE((*r)->exclusive);
  EXPECT_EQ((*r)->owner_xml, "");
  // An empty body is a refresh.
  r = parse_lockinfo("");
  ASSERT_OK(r);
  EXPECT_FALSE(r->has_value());
  r = parse_lockinfo("  \r\n");
  ASSERT_OK(r);
  EXPECT_FALSE(r->has_value());
}

TEST(DavLockinfo, RefusesIncompleteLockinfo) {
  EXPECT_INVALID(parse_lockinfo(R"(<D:lockinfo xmlns:D="DAV:"><D:locktype><D:write/></D:locktype></D:lockinfo>)"));  // no scope
  EXPECT_INVALID(parse_lockinfo(R"(<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope></D:lockinfo>)"));  // no type
  EXPECT_INVALID(parse_lockinfo(R"(<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:read/></D:locktype></D:lockinfo>)"));
  EXPECT_INVALID(parse_lockinfo(R"(<D:lockinfo xmlns:D="urn:other"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>)"));
  EXPECT_INVALID(parse_lockinfo("<D:lockinfo"));
  EXPECT_INVALID(parse_lockinfo(R"(<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner><x:me/></D:owner></D:lockinfo>)"));
}

// --- If ------------------------------------------------------------------------------------------

TEST(DavIf, UntaggedToken) {
  auto r = parse_if("(<opaquelocktoken:e71d4fae-5dec-22d6-fea5-00a0c91e6be4>)");
  ASSERT_OK(r);
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].resource, "");
  ASSERT_EQ((*r)[0].conditions.size(), 1u);
  EXPECT_TRUE((*r)[0].conditions[0].is_token);
  EXPECT_FALSE((*r)[0].conditions[0].negate);
  EXPECT_EQ((*r)[0].conditions[0].value, "opaquelocktoken:e71d4fae-5dec-22d6-fea5-00a0c91e6be4");
}

TEST(DavIf, TaggedListsNotAndEtags) {
  auto r = parse_if(R"(<https://cloud.example.com/remote.php/dav/files/alice/a.txt> (<opaquelocktoken:1> ["abc"]) (Not <DAV:no-lock> [W/"weak"])  <http://x/b> (["b"]))");
  ASSERT_OK(r);
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].resource, "https://cloud.example.com/remote.php/dav/files/alice/a.txt");
  ASSERT_EQ((*r)[0].conditions.size(), 2u);
  EXPECT_TRUE((*r)[0].conditions[0].is_token);
  EXPECT_EQ((*r)[0].conditions[0].value, "opaquelocktoken:1");
  EXPECT_FALSE((*r)[0].conditions[1].is_token);
  EXPECT_EQ((*r)[0].conditions[1].value, "\"abc\"");  // quotes kept
  // A tag applies to every list after it, until the next tag.
  EXPECT_EQ((*r)[1].resource, (*r)[0].resource);
  ASSERT_EQ((*r)[1].conditions.size(), 2u);
  EXPECT_TRUE((*r)[1].conditions[0].negate);
  EXPECT_TRUE((*r)[1].conditions[0].is_token);
  EXPECT_EQ((*r)[1].conditions[0].value, "DAV:no-lock");
  EXPECT_FALSE((*r)[1].conditions[1].negate);
  EXPECT_EQ((*r)[1].conditions[1].value, "W/\"weak\"");
  EXPECT_EQ((*r)[2].resource, "http://x/b");
  ASSERT_EQ((*r)[2].conditions.size(), 1u);
  EXPECT_EQ((*r)[2].conditions[0].value, "\"b\"");

  r = parse_if("(not [\"e\"])\t(<t1>)(<t2>)");
  ASSERT_OK(r);
  ASSERT_EQ(r->size(), 3u);
  EXPECT_TRUE((*r)[0].conditions[0].negate);
}

TEST(DavIf, RefusesMalformedHeaders) {
  for (std::string_view bad : {"", "   ", "garbage", "<http://x/a>", "()", "(<unterminated", "([\"unterminated)", "(foo)",
                               "(Not)", "(Not", "(<a>) junk", "<http://x/a (<t>)", "(<a>"}) {
    SCOPED_TRACE(std::string("If: ") + std::string(bad));
    EXPECT_INVALID(parse_if(bad));
  }
  std::string many;
  for (int i = 0; i < 100; ++i) { many += "(<t>)"; }
  EXPECT_INVALID(parse_if(many));
  std::string wide = "(";
  for (int i = 0; i < 100; ++i) { wide += "<t>"; }
  EXPECT_INVALID(parse_if(wide + ")"));
}

// --- Destination and href ------------------------------------------------------------------------

TEST(DavDestination, AbsoluteUrlAndPath) {
  Root root{"/remote.php/dav/files/alice/", "alice"};
  auto p = destination_path("https://cloud.example.com/remote.php/dav/files/alice/docs/b.txt", root);
  ASSERT_OK(p);
  EXPECT_EQ(*p, "docs/b.txt");
  p = destination_path("http://cloud.example.com:8080/remote.php/dav/files/alice/docs/", root);
  ASSERT_OK(p);
  EXPECT_EQ(*p, "docs/");
  p = destination_path("/remote.php/dav/files/alice/docs/b.txt", root);
  ASSERT_OK(p);
  EXPECT_EQ(*p, "docs/b.txt");
  p = destination_path("/remote.php/dav/files/alice", root);  // the root itself
  ASSERT_OK(p);
  EXPECT_EQ(*p, "");
  p = destination_path("/remote.php/dav/files/alice/", root);
  ASSERT_OK(p);
  EXPECT_EQ(*p, "");
  // The old WebDAV root.
  Root webdav{"/remote.php/webdav/", ""};
  p = destination_path("https://cloud.example.com/remote.php/webdav/x/y.txt", webdav);
  ASSERT_OK(p);
  EXPECT_EQ(*p, "x/y.txt");
}

TEST(DavDestination, PercentEncodedNames) {
  Root root{"/remote.php/dav/files/alice/", "alice"};
  auto p = destination_path("https://cloud.example.com/remote.php/dav/files/alice/My%20Docs/r%C3%A9sum%C3%A9%20%231.txt", root);
  ASSERT_OK(p);
  EXPECT_EQ(*p, "My Docs/r\xC3\xA9sum\xC3\xA9 #1.txt");
  // A user whose name needs encoding.
  Root jd{"/remote.php/dav/files/j%20doe/", "j doe"};
  p = destination_path("/remote.php/dav/files/j%20doe/a%2Bb.txt", jd);
  ASSERT_OK(p);
  EXPECT_EQ(*p, "a+b.txt");
  EXPECT_ERRC(destination_path("/remote.php/dav/files/alice/bad%zz", root), Errc::invalid_argument);
  EXPECT_ERRC(destination_path("/remote.php/dav/files/alice/nul%00.txt", root), Errc::invalid_argument);
}

TEST(DavDestination, OutsideTheRootIsForbidden) {
  Root root{"/remote.php/dav/files/alice/", "alice"};
  EXPECT_ERRC(destination_path("https://cloud.example.com/remote.php/dav/files/bob/x.txt", root), Errc::forbidden);
  EXPECT_ERRC(destination_path("/remote.php/dav/files/alicex/x.txt", root), Errc::forbidden);  // a prefix, not the root
  EXPECT_ERRC(destination_path("/remote.php/webdav/x.txt", root), Errc::forbidden);
  EXPECT_ERRC(destination_path("https://cloud.example.com", root), Errc::forbidden);
  // Dot segments never climb out.
  EXPECT_FALSE(destination_path("/remote.php/dav/files/alice/../bob/x.txt", root));
  EXPECT_FALSE(destination_path("/remote.php/dav/files/alice/%2e%2e/bob/x.txt", root));
}

TEST(DavHref, EncodesEachSegment) {
  Root root{"/remote.php/dav/files/alice/", "alice"};
  EXPECT_EQ(href(root, "", true), "/remote.php/dav/files/alice/");
  EXPECT_EQ(href(root, "docs", true), "/remote.php/dav/files/alice/docs/");
  EXPECT_EQ(href(root, "My Docs/r\xC3\xA9sum\xC3\xA9 #1.txt", false), "/remote.php/dav/files/alice/My%20Docs/r%C3%A9sum%C3%A9%20%231.txt");
  // What href makes, destination_path reads back.
  auto back = destination_path(href(root, "My Docs/r\xC3\xA9sum\xC3\xA9 #1.txt", false), root);
  ASSERT_OK(back);
  EXPECT_EQ(*back, "My Docs/r\xC3\xA9sum\xC3\xA9 #1.txt");
}

TEST(DavXml, EscapeAndUnquote) {
  EXPECT_EQ(escape(R"(<a href="x">&'</a>)"), "&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt;");
  EXPECT_EQ(unquote("\"abc\""), "abc");
  EXPECT_EQ(unquote("W/\"abc\""), "abc");
  EXPECT_EQ(unquote("abc"), "abc");
  EXPECT_EQ(quoted("abc"), "\"abc\"");
}

}  // namespace
}  // namespace ciel::box::dav
