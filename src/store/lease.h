// store/lease.h: duties that must run once across every node sharing a MetaStore (object expiry
// and lifecycle, trash and version purges, token key rotation) run on the node holding the duty's
// lease. A lease is a row (name, holder, expiry): its holder renews it every round; another node
// takes it only once it has expired, so the duties of a node that dies move to another within one
// lease time. Expiries are written with each node's clock: clocks must agree to well within a
// lease time (NTP does).
#pragma once
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "core/result.h"

namespace ciel::store {

class MetaStore;
struct Migration;

class Lease {
 public:
  Lease(MetaStore& store, std::string name, std::string holder, std::chrono::milliseconds ttl)
      : store_(store), name_(std::move(name)), holder_(std::move(holder)), ttl_(ttl) {}
  // Takes the lease or renews it: true while this node holds it. A store error counts as not
  // holding it (the duty waits for the next round rather than running twice).
  boost::asio::awaitable<bool> hold();
  Result<bool> hold_sync();
  // Gives the lease up (at a clean stop), so another node takes it at once.
  Status release_sync();
  const std::string& name() const { return name_; }

 private:
  MetaStore& store_;
  std::string name_;
  std::string holder_;
  std::chrono::milliseconds ttl_;
};

// This process's name as a lease holder: host name, process id and a random suffix.
std::string lease_holder_name();

// The store module's own tables (store_leases).
std::vector<Migration> store_migrations();

}  // namespace ciel::store
