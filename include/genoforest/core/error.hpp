#pragma once
/// @file error.hpp
/// The error hierarchy of genoforest (kinds after plink2: malformed vs inconsistent vs degenerate).
///
/// Library code throws one of these; only `main` decides how the job ends. Each kind maps to one
/// documented process exit code (docs/errors.md). The message is the user-facing text *after*
/// "genoforest STAGE: error: " and should name where (file, line/record) and what is wrong.
#include <stdexcept>
#include <string>

namespace genoforest {

/// Process exit codes, one per error kind. Stable: scripts and SLURM wrappers test them.
enum class ExitCode : int {
  kOk = 0,
  kInternal = 1,      ///< a bug in genoforest
  kUsage = 2,         ///< bad command line or config
  kInput = 3,         ///< malformed input file
  kInconsistent = 4,  ///< inputs that disagree with each other
  kData = 5,          ///< well-formed input that yields no answer
  kIo = 6,            ///< the operating system refused (open, write, rename, disk full)
  kInterrupted = 7,   ///< stopped by SIGTERM/SIGINT at a task boundary: rerun to resume
};

/// Base of every genoforest error. Never thrown directly.
class Error : public std::runtime_error {
 public:
  Error(ExitCode code, const std::string& what) : std::runtime_error(what), code_(code) {}
  [[nodiscard]] ExitCode code() const noexcept { return code_; }

 private:
  ExitCode code_;
};

/// A bad option, option value or option combination (command line or config file).
class UsageError : public Error {
 public:
  explicit UsageError(const std::string& what) : Error(ExitCode::kUsage, what) {}
};

/// A malformed input file. `where` is "path", "path line N" or "path record N (chr:pos)".
class InputError : public Error {
 public:
  InputError(const std::string& where, const std::string& reason)
      : Error(ExitCode::kInput, where + ": " + reason) {}
};

/// Inputs that are each well-formed but disagree (a sample missing, an unknown contig).
class InconsistentInputError : public Error {
 public:
  InconsistentInputError(const std::string& where, const std::string& reason)
      : Error(ExitCode::kInconsistent, where + ": " + reason) {}
};

/// Well-formed data that yields no answer (no variant passes the filters, one class only).
class DataError : public Error {
 public:
  explicit DataError(const std::string& what) : Error(ExitCode::kData, what) {}
};

/// The operating system or a storage library refused an operation. `what` names the path.
class IoError : public Error {
 public:
  explicit IoError(const std::string& what) : Error(ExitCode::kIo, what) {}
};

/// A broken invariant: a bug in genoforest, never the user's fault.
class InternalError : public Error {
 public:
  explicit InternalError(const std::string& what) : Error(ExitCode::kInternal, "internal error: " + what) {}
};

/// Rebuilds an error of the given kind from its code and final message (used to carry an error
/// from the rank that raised it to the rank that reports it). Throws; never returns.
[[noreturn]] void rethrow_as(ExitCode code, const std::string& message);

/// `strerror(errno)` for the current errno, thread-safe.
[[nodiscard]] std::string errno_text();

}  // namespace genoforest
