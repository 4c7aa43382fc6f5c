#pragma once
/// @file files.hpp
/// Publishing outputs atomically, and small file facts for provenance.
#include <cstdint>
#include <filesystem>
#include <string>

namespace genoforest {

/// An output written under a temporary name in the target folder and renamed on `commit()`.
///
/// The temporary name is `<final>.tmp.<token>`; `token` must be the same on every process that
/// writes the file (the MPI layer picks it on one rank and broadcasts it). If the object is
/// destroyed without `commit()` (an error unwinds), the temporary is removed and any earlier file
/// under the final name is left untouched. Not thread-safe.
class AtomicOutput {
 public:
  AtomicOutput(std::filesystem::path final_path, const std::string& token);
  ~AtomicOutput();
  AtomicOutput(const AtomicOutput&) = delete;
  AtomicOutput& operator=(const AtomicOutput&) = delete;

  [[nodiscard]] const std::filesystem::path& tmp() const noexcept { return tmp_; }
  [[nodiscard]] const std::filesystem::path& final_path() const noexcept { return final_; }
  /// Renames the temporary to the final name. Throws IoError naming both paths on failure.
  void commit();
  /// Makes this object leave the temporary alone on destruction (another process owns cleanup).
  void release() noexcept { released_ = true; }

 private:
  std::filesystem::path final_;
  std::filesystem::path tmp_;
  bool committed_ = false;
  bool released_ = false;
};

/// Throws IoError (naming `path` and the reason) unless a new file can be created in the folder
/// that would hold `path`. Creates nothing.
void check_output_writable(const std::filesystem::path& path);

/// Size in bytes and lowercase hex MD5 of a file's contents. Throws IoError if unreadable.
struct FileDigest {
  std::uint64_t size = 0;
  std::string md5;
};
[[nodiscard]] FileDigest digest_file(const std::filesystem::path& path);

/// Writes `bytes` to `path` through an AtomicOutput (token: this process id). Throws IoError.
void write_atomically(const std::filesystem::path& path, const std::string& bytes);

/// The current time in UTC, ISO 8601 ("2026-11-24T12:00:00Z"), for provenance.
[[nodiscard]] std::string now_iso8601();

}  // namespace genoforest
