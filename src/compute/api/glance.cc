// Glance v2 under /image: version discovery, images (create, list with filters and pagination,
// show, JSON-patch update, delete), their data (streaming upload checked with qemu-img,
// download), members (sharing with other projects) and the schemas clients read.
#include <charconv>
#include <set>

#include "compute/api/common.h"
#include "core/http/target.h"

namespace ciel::compute::api {
namespace {

using boost::asio::awaitable;

// Fields Glance defines; anything else a client sends is a string property kept as given.
const std::set<std::string, std::less<>> kCore = {"id", "name", "status", "visibility", "protected", "os_hidden", "disk_format",
                                                  "container_format", "size", "virtual_size", "checksum", "os_hash_algo",
                                                  "os_hash_value", "min_disk", "min_ram", "owner", "created_at", "updated_at",
                                                  "tags", "file", "self", "schema", "direct_url", "locations", "stores"};
const std::set<std::string, std::less<>> kReadOnly = {"id", "status", "size", "virtual_size", "checksum", "os_hash_algo", "os_hash_value",
                                                      "owner", "created_at", "updated_at", "file", "self", "schema", "direct_url",
                                                      "locations", "stores"};

http::Response err(const Error& e, const http::Request& req) { return error_response(Dialect::glance, e, req); }
http::Response err(http::Status s, std::string_view m, const http::Request& req) { return error_response(Dialect::glance, s, m, req); }

json::value opt_string(const std::string& s) { return s.empty() ? json::value(nullptr) : json::value(s); }

json::object image_json(const Image& i) {
  json::object o;
  o["id"] = i.id;
  o["name"] = opt_string(i.name);
  o["status"] = i.status;
  o["visibility"] = i.visibility;
  o["protected"] = i.is_protected;
  o["os_hidden"] = i.os_hidden;
  o["disk_format"] = opt_string(i.disk_format);
  o["container_format"] = opt_string(i.container_format);
  o["size"] = i.size ? json::value(*i.size) : json::value(nullptr);
  o["virtual_size"] = i.virtual_size ? json::value(*i.virtual_size) : json::value(nullptr);
  o["checksum"] = opt_string(i.checksum);
  o["os_hash_algo"] = opt_string(i.os_hash_algo);
  o["os_hash_value"] = opt_string(i.os_hash_value);
  o["min_disk"] = i.min_disk;
  o["min_ram"] = i.min_ram;
  o["owner"] = i.owner;
  o["created_at"] = iso_time(i.created_s);
  o["updated_at"] = iso_time(i.updated_s);
  json::array tags;
  for (const auto& t : i.tags) { tags.emplace_back(t); }
  o["tags"] = std::move(tags);
  o["file"] = "/v2/images/" + i.id + "/file";
  o["self"] = "/v2/images/" + i.id;
  o["schema"] = "/v2/schemas/image";
  for (const auto& [k, v] : i.properties) { o[k] = v; }
  return o;
}

// The image a document describes (after a create body or a patch): Errc::invalid_argument for
// a wrong type, forbidden for a read-only field that changed.
Result<Image> image_from_json(const json::object& o, Image base, bool creating) {
  Image i = std::move(base);
  std::map<std::string, std::string> props;
  for (const auto& [k, v] : o) {
    std::string key(k);
    if (creating && kReadOnly.contains(key) && key != "id") {
      return make_error(Errc::forbidden, "Attribute '" + key + "' is read-only.");
    }
    auto str = [&]() -> Result<std::string> {
      if (v.is_null()) { return std::string(); }
      if (!v.is_string()) { return make_error(Errc::invalid_argument, "Invalid value for " + key + ": expected a string"); }
      return std::string(v.as_string());
    };
    auto integer = [&]() -> Result<std::int64_t> {
      if (!v.is_int64() && !v.is_uint64()) { return make_error(Errc::invalid_argument, "Invalid value for " + key + ": expected an integer"); }
      return v.is_int64() ? v.as_int64() : static_cast<std::int64_t>(v.as_uint64());
    };
    auto boolean = [&]() -> Result<bool> {
      if (!v.is_bool()) { return make_error(Errc::invalid_argument, "Invalid value for " + key + ": expected a boolean"); }
      return v.as_bool();
    };
    if (key == "id") {
      auto s = str();
      if (!s) { return s.error(); }
      if (creating) { i.id = *s; }
    } else if (key == "name") {
      auto s = str();
      if (!s) { return s.error(); }
      i.name = *s;
    } else if (key == "visibility") {
      auto s = str();
      if (!s) { return s.error(); }
      i.visibility = *s;
    } else if (key == "disk_format") {
      auto s = str();
      if (!s) { return s.error(); }
      i.disk_format = *s;
    } else if (key == "container_format") {
      auto s = str();
      if (!s) { return s.error(); }
      i.container_format = *s;
    } else if (key == "protected") {
      auto b = boolean();
      if (!b) { return b.error(); }
      i.is_protected = *b;
    } else if (key == "os_hidden") {
      auto b = boolean();
      if (!b) { return b.error(); }
      i.os_hidden = *b;
    } else if (key == "min_disk") {
      auto n = integer();
      if (!n) { return n.error(); }
      i.min_disk = *n;
    } else if (key == "min_ram") {
      auto n = integer();
      if (!n) { return n.error(); }
      i.min_ram = *n;
    } else if (key == "tags") {
      if (!v.is_array()) { return make_error(Errc::invalid_argument, "tags must be a list of strings"); }
      i.tags.clear();
      for (const auto& t : v.as_array()) {
        if (!t.is_string()) { return make_error(Errc::invalid_argument, "tags must be a list of strings"); }
        i.tags.emplace_back(t.as_string());
      }
    } else if (kCore.contains(key)) {
      continue;  // read-only fields echoed back by a patch
    } else {
      if (!v.is_string()) { return make_error(Errc::invalid_argument, "Property " + key + " must be a string"); }
      if (key.size() > 255 || v.as_string().size() > 65535) { return make_error(Errc::invalid_argument, "Property " + key + " is too long"); }
      props[key] = std::string(v.as_string());
    }
  }
  i.properties = std::move(props);
  return i;
}

Result<Image> apply_patch(const Image& current, const json::array& ops) {
  json::object doc = image_json(current);
  for (const auto& opv : ops) {
    if (!opv.is_object()) { return make_error(Errc::invalid_argument, "A JSON patch is a list of operations"); }
    const auto& op = opv.as_object();
    auto o = op.if_contains("op");
    auto p = op.if_contains("path");
    if (!o || !o->is_string() || !p || !p->is_string()) { return make_error(Errc::invalid_argument, "Each operation needs op and path"); }
    std::string path(p->as_string());
    if (path.size() < 2 || path[0] != '/' || path.find('/', 1) != std::string::npos) {
      return make_error(Errc::invalid_argument, "Invalid JSON pointer for this resource: " + path);
    }
    std::string key = path.substr(1);
    if (kReadOnly.contains(key)) { return make_error(Errc::forbidden, "Attribute '" + key + "' is read-only."); }
    std::string name(o->as_string());
    if (name == "add" || name == "replace") {
      auto v = op.if_contains("value");
      if (!v) { return make_error(Errc::invalid_argument, "Operation " + name + " needs a value"); }
      if (name == "replace" && !doc.contains(key)) { return make_error(Errc::conflict, "Property " + key + " does not exist."); }
      doc[key] = *v;
    } else if (name == "remove") {
      if (!doc.contains(key)) { return make_error(Errc::conflict, "Property " + key + " does not exist."); }
      if (kCore.contains(key)) { return make_error(Errc::forbidden, "Attribute '" + key + "' cannot be removed."); }
      doc.erase(key);
    } else {
      return make_error(Errc::invalid_argument, "Unsupported JSON patch operation " + name);
    }
  }
  return image_from_json(doc, current, false);
}

Result<std::uint64_t> parse_u64(std::string_view s) {
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size()) { return make_error(Errc::invalid_argument, "Invalid number " + std::string(s)); }
  return v;
}

awaitable<http::Response> handle_versions(http::RequestContext& ctx, const Deps& deps) {
  json::array versions;
  for (const char* v : {"v2.9", "v2.8", "v2.7", "v2.6", "v2.5", "v2.4", "v2.3", "v2.2", "v2.1", "v2.0"}) {
    json::object o;
    o["id"] = v;
    o["status"] = std::string_view(v) == "v2.9" ? "CURRENT" : "SUPPORTED";
    json::array links;
    links.push_back(json::object{{"rel", "self"}, {"href", deps.options.public_url + "/image/v2/"}});
    o["links"] = std::move(links);
    versions.push_back(std::move(o));
  }
  auto status = ctx.request().path.ends_with("/versions") ? http::Status::ok : http::Status{300};
  co_return json_response(status, json::object{{"versions", std::move(versions)}});
}

awaitable<http::Response> handle_images(http::RequestContext& ctx, const Deps& deps) {
  const auto& req = ctx.request();
  auto p = authenticate(req, deps);
  if (!p) { co_return err(p.error(), req); }
  Caller c{&*p, req.request_id};
  if (req.method == http::Method::post) {
    auto body = co_await read_object(ctx);
    if (!body) { co_return err(body.error(), req); }
    auto draft = image_from_json(*body, Image{}, true);
    if (!draft) { co_return err(draft.error(), req); }
    auto made = co_await deps.compute.create_image(c, std::move(*draft));
    if (!made) { co_return err(made.error(), req); }
    auto res = json_response(http::Status::created, image_json(*made));
    res.set_header("Location", deps.options.public_url + "/image/v2/images/" + made->id);
    res.set_header("OpenStack-image-import-methods", "");
    co_return res;
  }
  ImageQuery q;
  for (const auto& [k, v] : req.query_params) {
    if (k == "name") { q.name = v; }
    else if (k == "visibility") { q.visibility = v == "all" ? "" : v; }
    else if (k == "status") { q.status = v; }
    else if (k == "owner") { q.owner = v; }
    else if (k == "disk_format") { q.disk_format = v; }
    else if (k == "tag") { q.tag = v; }
    else if (k == "marker") { q.marker = v; }
    else if (k == "sort_key") { q.sort_key = v; }
    else if (k == "sort_dir") { q.sort_dir = v; }
    else if (k == "limit") {
      auto n = parse_u64(v);
      if (!n) { co_return err(n.error(), req); }
      q.limit = static_cast<std::size_t>(std::min<std::uint64_t>(*n, 1000));
    }
  }
  if (q.sort_dir != "asc" && q.sort_dir != "desc") { co_return err(http::Status::bad_request, "sort_dir must be asc or desc", req); }
  auto list = co_await deps.compute.list_images(c, q);
  if (!list) { co_return err(list.error(), req); }
  json::array images;
  for (const auto& i : *list) { images.push_back(image_json(i)); }
  json::object out{{"images", std::move(images)}, {"first", "/v2/images"}, {"schema", "/v2/schemas/images"}};
  if (!list->empty() && list->size() == q.limit) {
    out["next"] = "/v2/images?marker=" + list->back().id + "&limit=" + std::to_string(q.limit);
  }
  co_return json_response(http::Status::ok, out);
}

awaitable<http::Response> handle_image(http::RequestContext& ctx, const Deps& deps) {
  const auto& req = ctx.request();
  auto p = authenticate(req, deps);
  if (!p) { co_return err(p.error(), req); }
  Caller c{&*p, req.request_id};
  std::string id(ctx.param("id"));
  if (req.method == http::Method::delete_) {
    auto st = co_await deps.compute.delete_image(c, id);
    if (!st) { co_return err(st.error(), req); }
    co_return http::Response(http::Status::no_content);
  }
  auto img = co_await deps.compute.get_image(c, id);
  if (!img) { co_return err(img.error(), req); }
  if (req.method == http::Method::patch) {
    auto ct = req.header("Content-Type");
    if (ct.find("openstack-images-v2.1-json-patch") == std::string_view::npos && ct.find("openstack-images-v2.0-json-patch") == std::string_view::npos) {
      co_return err(http::Status::unsupported_media_type, "Unsupported Content-Type: use application/openstack-images-v2.1-json-patch", req);
    }
    auto body = co_await ctx.read_body(256 * 1024);
    if (!body) { co_return err(body.error(), req); }
    boost::system::error_code ec;
    auto v = json::parse(*body, ec);
    if (ec || !v.is_array()) { co_return err(http::Status::bad_request, "A JSON patch is a list of operations", req); }
    auto updated = apply_patch(*img, v.as_array());
    if (!updated) { co_return err(updated.error(), req); }
    auto saved = co_await deps.compute.update_image(c, id, std::move(*updated));
    if (!saved) { co_return err(saved.error(), req); }
    co_return json_response(http::Status::ok, image_json(*saved));
  }
  co_return json_response(http::Status::ok, image_json(*img));
}

awaitable<http::Response> handle_file(http::RequestContext& ctx, const Deps& deps) {
  const auto& req = ctx.request();
  auto p = authenticate(req, deps);
  if (!p) { co_return err(p.error(), req); }
  Caller c{&*p, req.request_id};
  std::string id(ctx.param("id"));
  if (req.method == http::Method::put) {
    auto ct = req.header("Content-Type");
    if (!ct.empty() && ct.find("application/octet-stream") == std::string_view::npos) {
      co_return err(http::Status::unsupported_media_type, "Image data must be sent as application/octet-stream", req);
    }
    auto img = co_await deps.compute.upload_image(c, id, ctx.body(), req.content_length);
    if (!img) { co_return err(img.error(), req); }
    co_return http::Response(http::Status::no_content);
  }
  auto img = co_await deps.compute.get_image(c, id);
  if (!img) { co_return err(img.error(), req); }
  if (img->status != "active" || !img->size) { co_return http::Response(http::Status::no_content); }
  auto src = co_await deps.compute.download_image(c, *img, 0, *img->size);
  if (!src) { co_return err(src.error(), req); }
  http::Response res(http::Status::ok);
  res.set_header("Content-Type", "application/octet-stream");
  res.set_header("Content-MD5", img->checksum);
  res.set_stream(std::move(*src), *img->size);
  co_return res;
}

json::object member_json(const ImageMember& m) {
  return json::object{{"image_id", m.image_id}, {"member_id", m.member_id}, {"status", m.status},
                      {"created_at", iso_time(m.created_s)}, {"updated_at", iso_time(m.updated_s)}, {"schema", "/v2/schemas/member"}};
}

awaitable<http::Response> handle_members(http::RequestContext& ctx, const Deps& deps) {
  const auto& req = ctx.request();
  auto p = authenticate(req, deps);
  if (!p) { co_return err(p.error(), req); }
  Caller c{&*p, req.request_id};
  std::string id(ctx.param("id"));
  std::string member(ctx.param("member"));
  if (member.empty()) {
    if (req.method == http::Method::post) {
      auto body = co_await read_object(ctx);
      if (!body) { co_return err(body.error(), req); }
      auto m = body->if_contains("member");
      if (!m || !m->is_string()) { co_return err(http::Status::bad_request, "Expected {\"member\": \"<project id>\"}", req); }
      auto added = co_await deps.compute.add_member(c, id, std::string(m->as_string()));
      if (!added) { co_return err(added.error(), req); }
      co_return json_response(http::Status::ok, member_json(*added));
    }
    auto list = co_await deps.compute.list_members(c, id);
    if (!list) { co_return err(list.error(), req); }
    json::array members;
    for (const auto& m : *list) { members.push_back(member_json(m)); }
    co_return json_response(http::Status::ok, json::object{{"members", std::move(members)}, {"schema", "/v2/schemas/members"}});
  }
  if (req.method == http::Method::put) {
    auto body = co_await read_object(ctx);
    if (!body) { co_return err(body.error(), req); }
    auto s = body->if_contains("status");
    if (!s || !s->is_string()) { co_return err(http::Status::bad_request, "Expected {\"status\": \"accepted|rejected|pending\"}", req); }
    auto m = co_await deps.compute.update_member(c, id, member, std::string(s->as_string()));
    if (!m) { co_return err(m.error(), req); }
    co_return json_response(http::Status::ok, member_json(*m));
  }
  if (req.method == http::Method::delete_) {
    auto st = co_await deps.compute.remove_member(c, id, member);
    if (!st) { co_return err(st.error(), req); }
    co_return http::Response(http::Status::no_content);
  }
  auto list = co_await deps.compute.list_members(c, id);
  if (!list) { co_return err(list.error(), req); }
  for (const auto& m : *list) {
    if (m.member_id == member) { co_return json_response(http::Status::ok, member_json(m)); }
  }
  co_return err(http::Status::not_found, "No such member", req);
}

awaitable<http::Response> handle_schema(http::RequestContext& ctx, const Deps&) {
  std::string_view which = ctx.param("name");
  json::object props;
  for (const auto& k : kCore) { props[k] = json::object{{"type", json::array{"null", "string", "integer", "boolean", "array"}}}; }
  json::object schema{{"name", which == "images" ? "images" : which == "member" ? "member" : which == "members" ? "members" : "image"},
                      {"properties", std::move(props)},
                      {"additionalProperties", json::object{{"type", "string"}}}};
  co_return json_response(http::Status::ok, schema);
}

}  // namespace

void add_glance_routes(http::Router& router, const Deps& deps) {
  auto versions = [&deps](http::RequestContext& ctx) { return handle_versions(ctx, deps); };
  router.add(http::Method::get, "/image", versions);
  router.add(http::Method::get, "/image/", versions);
  router.add(http::Method::get, "/image/versions", versions);
  auto images = [&deps](http::RequestContext& ctx) { return handle_images(ctx, deps); };
  router.add(http::Method::get, "/image/v2/images", images);
  router.add(http::Method::post, "/image/v2/images", images);
  auto image = [&deps](http::RequestContext& ctx) { return handle_image(ctx, deps); };
  for (auto m : {http::Method::get, http::Method::patch, http::Method::delete_}) { router.add(m, "/image/v2/images/{id}", image); }
  auto file = [&deps](http::RequestContext& ctx) { return handle_file(ctx, deps); };
  router.add(http::Method::get, "/image/v2/images/{id}/file", file);
  http::RouteOptions big;
  big.max_body_bytes = http::kUnlimitedBody;
  router.add(http::Method::put, "/image/v2/images/{id}/file", file, big);
  auto members = [&deps](http::RequestContext& ctx) { return handle_members(ctx, deps); };
  router.add(http::Method::get, "/image/v2/images/{id}/members", members);
  router.add(http::Method::post, "/image/v2/images/{id}/members", members);
  for (auto m : {http::Method::get, http::Method::put, http::Method::delete_}) { router.add(m, "/image/v2/images/{id}/members/{member}", members); }
  router.add(http::Method::get, "/image/v2/schemas/{name}", [&deps](http::RequestContext& ctx) { return handle_schema(ctx, deps); });
}

}  // namespace ciel::compute::api
