// PostgreSQL backend of the MetaStore (libpq).
#include <libpq-fe.h>

#include "store/meta_store.h"

namespace ciel::store {

Result<std::unique_ptr<MetaStore>> open_postgres_meta_store(const PostgresConfig& config) {
  (void)config;
  return make_error(Errc::unavailable, "the PostgreSQL metadata store is not built yet");
}

}  // namespace ciel::store
