#include "box/dav/propfind.h"

#include <map>
#include <set>

#include "box/collab.h"

#include "core/time.h"

namespace ciel::box::dav {
namespace {

// What rendering one PROPFIND needs besides the nodes, fetched once per request.
struct Context {
  const Deps& deps;
  const User& user;
  const Root& root;
  std::optional<Quota> quota;
  std::vector<Lock> locks;
  std::map<std::int64_t, std::vector<DeadProp>> dead;
  const LinkView* link = nullptr;
  std::set<std::int64_t> favorites;                  // of the nodes rendered, the user's starred ones
  std::map<std::int64_t, CommentCount> comments;     // comment counts of the nodes rendered
  std::map<std::int64_t, std::vector<Tag>> tags;     // the user's tags on the nodes rendered
};

bool in(std::string_view ns, std::string_view name, const PropName& p) { return p.ns == ns && p.name == name; }

// The DAV: properties allprop returns (RFC 4918 9.1: the live ones defined there).
const std::vector<PropName>& all_props() {
  static const std::vector<PropName> kAll = {
      {"DAV:", "resourcetype"},  {"DAV:", "getetag"},       {"DAV:", "getlastmodified"}, {"DAV:", "getcontentlength"},
      {"DAV:", "getcontenttype"}, {"DAV:", "supportedlock"}, {"DAV:", "lockdiscovery"},
  };
  return kAll;
}

const std::vector<PropName>& protected_props() {
  static const std::vector<PropName> kProtected = {
      {"DAV:", "resourcetype"},      {"DAV:", "getetag"},              {"DAV:", "getlastmodified"},      {"DAV:", "getcontentlength"},
      {"DAV:", "getcontenttype"},    {"DAV:", "supportedlock"},        {"DAV:", "lockdiscovery"},        {"DAV:", "creationdate"},
      {"DAV:", "quota-used-bytes"},  {"DAV:", "quota-available-bytes"}, {std::string(kOcNs), "id"},     {std::string(kOcNs), "fileid"},
      {std::string(kOcNs), "permissions"}, {std::string(kOcNs), "size"}, {std::string(kOcNs), "checksums"},
      {std::string(kOcNs), "comments-count"}, {std::string(kOcNs), "comments-unread"}, {std::string(kOcNs), "comments-href"}, {std::string(kNcNs), "system-tags"},
  };
  return kProtected;
}

bool covers(const Lock& l, const std::string& path) {
  if (l.path == path) { return true; }
  if (!l.infinite) { return false; }
  return l.path.empty() || (path.size() > l.path.size() && path.starts_with(l.path) && path[l.path.size()] == '/');
}

// Appends the property's element to `out`; false when the node has no such property.
bool live(std::string& out, const PropName& p, const Node& n, const Context& c) {
  if (p.ns == "DAV:") {
    if (p.name == "resourcetype") {
      out += n.folder ? "<d:resourcetype><d:collection/></d:resourcetype>" : "<d:resourcetype/>";
      return true;
    }
    if (p.name == "getetag") {
      out += "<d:getetag>\"";  // etags are hex: nothing to escape
      out += n.etag;
      out += "\"</d:getetag>";
      return true;
    }
    if (p.name == "getlastmodified") {
      // Files written together share their second: format each distinct time once.
      thread_local std::int64_t last_mtime = -1;
      thread_local std::string last_text;
      if (n.mtime != last_mtime) {
        last_text = http_date(SystemTime(std::chrono::seconds(n.mtime)));
        last_mtime = n.mtime;
      }
      out += "<d:getlastmodified>";
      out += last_text;
      out += "</d:getlastmodified>";
      return true;
    }
    if (p.name == "getcontentlength" && !n.folder) {
      out += "<d:getcontentlength>" + std::to_string(n.size) + "</d:getcontentlength>";
      return true;
    }
    if (p.name == "getcontenttype" && !n.folder) {
      out += "<d:getcontenttype>" + escape(n.content_type.empty() ? "application/octet-stream" : n.content_type) + "</d:getcontenttype>";
      return true;
    }
    if (p.name == "supportedlock") {
      out += "<d:supportedlock><d:lockentry><d:lockscope><d:exclusive/></d:lockscope><d:locktype><d:write/></d:locktype></d:lockentry>"
             "<d:lockentry><d:lockscope><d:shared/></d:lockscope><d:locktype><d:write/></d:locktype></d:lockentry></d:supportedlock>";
      return true;
    }
    if (p.name == "lockdiscovery") {
      out += "<d:lockdiscovery>";
      for (const auto& l : c.locks) {
        if (covers(l, n.path)) { out += lock_xml(l, c.root); }
      }
      out += "</d:lockdiscovery>";
      return true;
    }
    if (p.name == "quota-used-bytes" && n.folder && c.quota) {
      out += "<d:quota-used-bytes>" + std::to_string(n.size) + "</d:quota-used-bytes>";
      return true;
    }
    if (p.name == "quota-available-bytes" && n.folder && c.quota) {
      // Nextcloud's convention: -3 means unlimited.
      std::string v = c.quota->total == 0 ? "-3" : std::to_string(c.quota->total > c.quota->used ? c.quota->total - c.quota->used : 0);
      out += "<d:quota-available-bytes>" + v + "</d:quota-available-bytes>";
      return true;
    }
    return false;
  }
  if (p.ns == kOcNs) {
    if (p.name == "id") {
      out += "<oc:id>" + oc_id(n.id, c.deps.box.config()) + "</oc:id>";
      return true;
    }
    if (p.name == "fileid") {
      out += "<oc:fileid>" + std::to_string(n.id) + "</oc:fileid>";
      return true;
    }
    if (p.name == "permissions") {
      if (c.link) {
        out += "<oc:permissions>" + (n.folder ? c.link->folder_permissions : c.link->file_permissions) + "</oc:permissions>";
      } else {
        out += "<oc:permissions>" + oc_permissions(n) + "</oc:permissions>";
      }
      return true;
    }
    if (p.name == "size") {
      out += "<oc:size>" + std::to_string(n.size) + "</oc:size>";
      return true;
    }
    if (p.name == "checksums" && !n.folder && !(n.sha1.empty() && n.md5.empty() && n.adler32.empty())) {
      out += "<oc:checksums><oc:checksum>";
      bool first = true;
      for (auto [type, hex] : {std::pair{"SHA1:", &n.sha1}, std::pair{"MD5:", &n.md5}, std::pair{"ADLER32:", &n.adler32}}) {
        if (hex->empty()) { continue; }
        if (!first) { out += ' '; }
        out += type;
        out += *hex;
        first = false;
      }
      out += "</oc:checksum></oc:checksums>";
      return true;
    }
    if (p.name == "data-fingerprint") {
      out += "<oc:data-fingerprint></oc:data-fingerprint>";
      return true;
    }
    if (p.name == "share-types") {
      out += "<oc:share-types/>";
      return true;
    }
    if (p.name == "favorite") {
      out += c.favorites.contains(n.id) ? "<oc:favorite>1</oc:favorite>" : "<oc:favorite>0</oc:favorite>";
      return true;
    }
    if ((p.name == "comments-count" || p.name == "comments-unread") && !c.link) {
      auto it = c.comments.find(n.id);
      CommentCount k = it == c.comments.end() ? CommentCount{} : it->second;
      out += "<oc:" + p.name + ">" + std::to_string(p.name == "comments-count" ? k.total : k.unread) + "</oc:" + p.name + ">";
      return true;
    }
    if (p.name == "comments-href" && !c.link) {
      out += "<oc:comments-href>/remote.php/dav/comments/files/" + std::to_string(n.id) + "</oc:comments-href>";
      return true;
    }
    if (p.name == "owner-id" || p.name == "owner-display-name") {
      std::string owner = n.owner == c.user.id || n.owner.empty() ? c.user.name : c.deps.identity.user_name(n.owner);
      out += "<oc:" + p.name + ">" + escape(owner) + "</oc:" + p.name + ">";
      return true;
    }
    return false;
  }
  if (p.ns == kNcNs) {
    if (p.name == "system-tags" && !c.link) {
      out += "<nc:system-tags>";
      if (auto it = c.tags.find(n.id); it != c.tags.end()) {
        for (const auto& t : it->second) {
          out += "<nc:system-tag can-assign=\"true\" id=\"" + std::to_string(t.id) + "\" checked=\"true\">" + escape(t.name) + "</nc:system-tag>";
        }
      }
      out += "</nc:system-tags>";
      return true;
    }
    if (p.name == "has-preview") {
      out += "<nc:has-preview>false</nc:has-preview>";
      return true;
    }
    return false;
  }
  return false;
}

bool needs_dead(const PropfindRequest& r) {
  if (r.kind != PropfindRequest::Kind::prop) { return true; }
  Node probe;
  probe.folder = false;
  for (const auto& p : r.props) {
    bool known = (p.ns == "DAV:" || p.ns == kOcNs || p.ns == kNcNs) && !in("DAV:", "displayname", p);
    if (!known) { return true; }
  }
  return false;
}

void render_one(std::string& out, const PropfindRequest& r, const Node& n, const Context& c) {
  out += "<d:response><d:href>";
  out += href(c.root, n.path, n.folder);  // percent-encoded: nothing to escape
  out += "</d:href>";
  static const std::vector<DeadProp> kNone;
  auto it = c.dead.find(n.id);
  const auto& dead = it == c.dead.end() ? kNone : it->second;
  // Reused between nodes: a listing of 10,000 entries makes no allocation per node.
  thread_local std::string found, missing, probe;
  found.clear();
  missing.clear();
  if (r.kind == PropfindRequest::Kind::propname) {
    for (const auto& p : all_props()) {
      probe.clear();
      if (live(probe, p, n, c)) { found += empty_element(p); }
    }
    for (const auto& d : dead) { found += empty_element(PropName{d.ns, d.name}); }
  } else if (r.kind == PropfindRequest::Kind::allprop) {
    for (const auto& p : all_props()) { live(found, p, n, c); }
    for (const auto& d : dead) { found += d.value; }
    for (const auto& p : r.include) {
      bool listed = false;
      for (const auto& a : all_props()) { listed = listed || a == p; }
      if (!listed) { live(found, p, n, c); }
    }
  } else {
    for (const auto& p : r.props) {
      const DeadProp* d = nullptr;
      // oc:favorite is live (the user's star); a dead copy from before is ignored.
      for (const auto& x : in(kOcNs, "favorite", p) ? kNone : dead) {
        if (x.ns == p.ns && x.name == p.name) { d = &x; }
      }
      if (d) {
        found += d->value;
      } else if (!live(found, p, n, c)) {
        missing += empty_element(p);
      }
    }
  }
  if (!found.empty() || missing.empty()) {
    out += "<d:propstat><d:prop>";
    out += found;
    out += "</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat>";
  }
  if (!missing.empty()) {
    out += "<d:propstat><d:prop>";
    out += missing;
    out += "</d:prop><d:status>HTTP/1.1 404 Not Found</d:status></d:propstat>";
  }
  out += "</d:response>";
}

// What a request asks of the collaboration service, loaded into `c`: the stars, comment counts
// and tags of `anchor` and its children, or with `only` of that one node alone.
struct CollabWants {
  bool favorite = false, comments = false, tags = false;
};
CollabWants collab_wants(const PropfindRequest& r) {
  CollabWants w;
  for (const auto& p : r.props) {
    w.favorite = w.favorite || in(kOcNs, "favorite", p);
    w.comments = w.comments || in(kOcNs, "comments-count", p) || in(kOcNs, "comments-unread", p);
    w.tags = w.tags || in(kNcNs, "system-tags", p);
  }
  return w;
}
boost::asio::awaitable<Status> load_collab(const Deps& deps, const User& user, CollabWants w, std::int64_t anchor,
                                           std::optional<std::int64_t> only, Context& c) {
  if (w.favorite) {
    auto f = co_await deps.collab.favorites_in(user.id, anchor);
    if (!f) { co_return f.error(); }
    for (auto id : *f) {
      if (!only || id == *only) { c.favorites.insert(id); }
    }
  }
  if (w.comments) {
    auto k = co_await deps.collab.comment_counts(user.id, anchor);
    if (!k) { co_return k.error(); }
    for (auto& [id, n] : *k) {
      if (!only || id == *only) { c.comments[id] = n; }
    }
  }
  if (w.tags) {
    auto t = co_await deps.collab.tags_in(user.id, anchor);
    if (!t) { co_return t.error(); }
    for (auto& [id, tags] : *t) {
      if (!only || id == *only) { c.tags[id] = std::move(tags); }
    }
  }
  co_return Status{};
}

}  // namespace

bool is_protected(const PropName& name) {
  for (const auto& p : protected_props()) {
    if (p == name) { return true; }
  }
  return false;
}

std::string empty_element(const PropName& p) {
  if (p.ns == "DAV:") { return "<d:" + p.name + "/>"; }
  if (p.ns == kOcNs) { return "<oc:" + p.name + "/>"; }
  if (p.ns == kNcNs) { return "<nc:" + p.name + "/>"; }
  if (p.ns.empty()) { return "<" + p.name + " xmlns=\"\"/>"; }
  return "<x:" + p.name + " xmlns:x=\"" + escape(p.ns) + "\"/>";
}

std::string lock_xml(const Lock& l, const Root& root) {
  std::string out = "<d:activelock><d:locktype><d:write/></d:locktype><d:lockscope>";
  out += l.exclusive ? "<d:exclusive/>" : "<d:shared/>";
  out += "</d:lockscope><d:depth>";
  out += l.infinite ? "infinity" : "0";
  out += "</d:depth>";
  out += l.owner_xml;
  auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  out += "<d:timeout>" + (l.expires_s == 0 ? std::string("Infinite") : "Second-" + std::to_string(std::max<std::int64_t>(l.expires_s - now, 0))) +
         "</d:timeout>";
  out += "<d:locktoken><d:href>" + escape(l.token) + "</d:href></d:locktoken>";
  out += "<d:lockroot><d:href>" + escape(href(root, l.path, false)) + "</d:href></d:lockroot></d:activelock>";
  return out;
}

boost::asio::awaitable<Result<std::string>> render_propfind(const Deps& deps, const User& user, const Root& root,
                                                            const PropfindRequest& request, const Node& node,
                                                            const std::vector<Node>& children, const LinkView* link) {
  Context c{deps, user, root, std::nullopt, {}, {}, link};
  bool all = request.kind != PropfindRequest::Kind::prop;
  auto wants = [&](std::string_view ns, std::string_view name) {
    if (all && ns == "DAV:" && name == "lockdiscovery") { return true; }
    for (const auto& p : request.props) {
      if (in(ns, name, p)) { return true; }
    }
    return false;
  };
  if (!link && (wants("DAV:", "quota-used-bytes") || wants("DAV:", "quota-available-bytes"))) {
    auto q = co_await deps.box.quota(user.id);
    if (!q) { co_return q.error(); }
    c.quota = *q;
  }
  if (!link && wants("DAV:", "lockdiscovery")) {
    auto l = co_await deps.box.locks(user.id, node.path, true);
    if (!l) { co_return l.error(); }
    c.locks = std::move(*l);
  }
  if (!link && needs_dead(request)) {  // a link shows none of the owner's dead properties
    if (node.folder && !children.empty()) {
      auto d = co_await deps.box.child_props(node.owner, node.id);  // through a share: the owner's
      if (!d) { co_return d.error(); }
      for (auto& [id, prop] : *d) { c.dead[id].push_back(std::move(prop)); }
    } else {
      auto d = co_await deps.box.props(node.owner, node.id);
      if (!d) { co_return d.error(); }
      c.dead[node.id] = std::move(*d);
    }
  }
  const CollabWants w = collab_wants(request);
  if (!link && (w.favorite || w.comments || w.tags)) {
    if (auto st = co_await load_collab(deps, user, w, node.id, std::nullopt, c); !st) { co_return st.error(); }
    // A received share's mount point lists as the shared node, which is no child of this folder.
    for (const auto& child : children) {
      if (!child.mount) { continue; }
      if (auto st = co_await load_collab(deps, user, w, child.id, child.id, c); !st) { co_return st.error(); }
    }
  }
  std::string out = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<d:multistatus xmlns:d=\"DAV:\" xmlns:s=\"http://sabredav.org/ns\" "
                    "xmlns:oc=\"http://owncloud.org/ns\" xmlns:nc=\"http://nextcloud.org/ns\">";
  out.reserve(512 * (children.size() + 1));
  render_one(out, request, node, c);
  for (const auto& child : children) { render_one(out, request, child, c); }
  out += "</d:multistatus>\n";
  co_return out;
}

boost::asio::awaitable<Result<std::string>> render_nodes(const Deps& deps, const User& user, const Root& root,
                                                         const PropfindRequest& request, const std::vector<Node>& nodes) {
  Context c{deps, user, root, std::nullopt, {}, {}, nullptr};
  auto wants = [&](std::string_view ns, std::string_view name) {
    for (const auto& p : request.props) {
      if (in(ns, name, p)) { return true; }
    }
    return false;
  };
  // Each node on its own: a filter's results come from anywhere in the tree (bounded by its limit).
  auto w = collab_wants(request);
  for (const auto& n : nodes) {
    if (auto st = co_await load_collab(deps, user, w, n.id, n.id, c); !st) { co_return st.error(); }
    if (needs_dead(request)) {
      auto d = co_await deps.box.props(user.id, n.id);
      if (!d) { co_return d.error(); }
      c.dead[n.id] = std::move(*d);
    }
  }
  if (wants("DAV:", "lockdiscovery")) {
    std::string everywhere;
    auto l = co_await deps.box.locks(user.id, everywhere, true);
    if (!l) { co_return l.error(); }
    c.locks = std::move(*l);
  }
  std::string out = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<d:multistatus xmlns:d=\"DAV:\" xmlns:s=\"http://sabredav.org/ns\" "
                    "xmlns:oc=\"http://owncloud.org/ns\" xmlns:nc=\"http://nextcloud.org/ns\">";
  for (const auto& n : nodes) { render_one(out, request, n, c); }
  out += "</d:multistatus>\n";
  co_return out;
}

}  // namespace ciel::box::dav
