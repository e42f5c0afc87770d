// store/blob_keys.h: what the blob store backends share: the form of a blob key and of the
// CRC-32C checksum record (BlobInfo::checksum).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace ciel::store {

// 8 to 128 characters of [a-z0-9_-], as new_blob_key() draws them: safe as a file name and as a
// RADOS object name, with no '.' (the RADOS store names tails `<key>.<n>`).
bool valid_blob_key(std::string_view key);

// "crc32c:<8 hex digits>".
std::string crc32c_checksum(std::uint32_t crc);

}  // namespace ciel::store
