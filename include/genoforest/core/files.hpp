#pragma once
/// @file files.hpp
/// Publishing outputs atomically, and small file facts for provenance.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace genoforest {

/// An output written under a temporary name in the target folder and renamed on `commit()`.
///
/// The temporary name is `<final>.tmp.<token>`; `token` must be the same on every process that
/// writes the file (the MPI layer picks it on one rank and broadcasts it). If the object is
/// destroyed without `commit()` (an error unwinds), the temporary is removed and any earlier file
/// under the final name is left untouched. commit() only ever replaces a regular file. Not
/// thread-safe.
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

/// An exclusive lock on a folder (flock on `<dir>/<name>`, which holds the owner's PID and host),
/// held until destruction; the system drops it when the process dies, however it dies.
class FolderLock {
 public:
  /// Throws UsageError naming the PID and host that hold the lock, IoError when the lock file
  /// cannot be created. `what` names the folder's role in the message ("run folder").
  FolderLock(const std::filesystem::path& dir, const std::string& name, const std::string& what);
  ~FolderLock();
  FolderLock(const FolderLock&) = delete;
  FolderLock& operator=(const FolderLock&) = delete;

 private:
  int fd_ = -1;
};

/// Throws IoError (naming `path` and the reason) unless a new file can be created in the folder
/// that would hold `path`. Creates nothing.
void check_output_writable(const std::filesystem::path& path);

/// A path a command reads or writes, with the option that named it (for messages).
struct NamedPath {
  std::string option;  ///< "-o", "--importance-output", "the input"
  std::filesystem::path path;
  bool stdout_ok = false;  ///< an output in a text format that may stream to standard output
};

/// True for "-" and "/dev/stdout" (standard output).
[[nodiscard]] bool is_stdout_path(const std::filesystem::path& path);

/// Checks a command's outputs before anything is written. Each must be a new or regular file in a
/// writable folder (not a folder, a device, a FIFO or a socket; standard output only where the
/// output has `stdout_ok`); none may be the same file as an input (through symbolic or hard links
/// too) or as another output. Throws UsageError naming both options, or IoError for the folder.
/// Then removes the outputs' temporaries left by killed runs (clean_stale_outputs). Call it on
/// one process, before the outputs' AtomicOutputs exist.
void check_outputs(const std::vector<NamedPath>& inputs, const std::vector<NamedPath>& outputs);

/// A token for temporary names, "PID-HOST-NONCE": unique, and it tells a later run on the same host
/// whether the process that made the temporary is still alive.
[[nodiscard]] std::string temp_token();

/// Removes the temporaries named `<prefix><token>` in `dir` (files or folders) whose token was made
/// by temp_token() on this host by a process that no longer runs (a killed run), and only those.
/// Returns the names removed, for the log.
std::vector<std::string> remove_stale_temporaries(const std::filesystem::path& dir, const std::string& prefix);

/// remove_stale_temporaries() for `<final>.tmp.*` beside `final_path`, with a log line naming them.
void clean_stale_outputs(const std::filesystem::path& final_path);

/// `message`, and when the file system that holds `path` is (nearly) full and the message does not
/// say so yet, ": No space left on device (N bytes free in DIR)": the reason a write failed, for
/// libraries whose errors do not say it.
[[nodiscard]] std::string with_disk_full_note(const std::string& message, const std::filesystem::path& path);

/// "VERB PATH: <errno's text>" with_disk_full_note(): the line for a failed write or close, made
/// right after it (errno still its own).
[[nodiscard]] std::string failed_write(const std::filesystem::path& path, const std::string& verb = "cannot write");

/// Size in bytes and lowercase hex MD5 of a file's contents. Throws IoError if unreadable.
struct FileDigest {
  std::uint64_t size = 0;
  std::string md5;
};
[[nodiscard]] FileDigest digest_file(const std::filesystem::path& path);

/// Writes `bytes` to `path` through an AtomicOutput (stale temporaries of `path` removed first),
/// or to standard output when is_stdout_path(path). Throws IoError.
void write_atomically(const std::filesystem::path& path, const std::string& bytes);

/// The current time in UTC, ISO 8601 ("2026-11-24T12:00:00Z"), for provenance.
[[nodiscard]] std::string now_iso8601();

}  // namespace genoforest
