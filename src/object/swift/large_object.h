// object/swift/large_object.h: Swift's large objects. A Dynamic Large Object (X-Object-Manifest:
// container/prefix) is every object under the prefix, in name order, at read time; a Static
// Large Object is a manifest of named segments checked at upload. Either reads as the
// concatenation of its segments, each a plain object the engine serves.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "object/swift/common.h"

namespace ciel::object::swift {

struct LargeObject {
  struct Segment {
    ObjectInfo object;
    std::uint64_t offset = 0, length = 0;  // the slice of the segment that belongs to the whole
  };
  std::vector<Segment> segments;
  std::uint64_t size = 0;
  std::string etag;  // unquoted; the client sees it quoted
};

// Resolves a manifest object's segments (read access to each, through `access`).
// Errc::not_found / precondition_failed (an SLO segment changed since upload: Swift's 409 is a
// conflict) and the engine's errors.
boost::asio::awaitable<Result<LargeObject>> assemble_large_object(const Deps& deps, const Access& access, const std::string& project,
                                                                  const ObjectInfo& manifest);
// Bytes [offset, offset+length) of the assembled object.
boost::asio::awaitable<Result<std::unique_ptr<ByteSource>>> open_large_object(const Deps& deps, const LargeObject& large,
                                                                              std::uint64_t offset, std::uint64_t length);

// The SLO half of assemble_large_object (slo.cc).
boost::asio::awaitable<Result<LargeObject>> assemble_slo(const Deps& deps, const Access& access, const std::string& project,
                                                         const ObjectInfo& manifest);

// PUT ?multipart-manifest=put and DELETE ?multipart-manifest=delete.
boost::asio::awaitable<http::Response> handle_put_slo(http::RequestContext& ctx, const Deps& deps, const Access& access,
                                                      const std::string& project, const std::string& container, const std::string& name);
boost::asio::awaitable<http::Response> handle_delete_slo(http::RequestContext& ctx, const Deps& deps, const Access& access,
                                                         const std::string& project, const std::string& container,
                                                         const std::string& name);

}  // namespace ciel::object::swift
