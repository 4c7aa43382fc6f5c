#pragma once
/// @file log.hpp
/// Leveled logging to stderr: "[genoforest STAGE] message" (info, from the reporting rank only) and
/// "[genoforest STAGE] warning (rank R): message" for warnings (any rank).
///
/// The process-wide settings are made once by the program's entry point (`configure_log`): the
/// algorithm code only calls the functions below and never knows its rank.
#include <string>

namespace genoforest {

enum class LogLevel : int { kError = 0, kWarning = 1, kInfo = 2, kDebug = 3 };

/// Sets the stage name shown in every line, the level, this process's tag (empty, or "rank 3")
/// and whether this process prints info/debug lines (only one process of a job should).
void configure_log(const std::string& stage, LogLevel level, const std::string& process_tag,
                   bool prints_info);

/// The stage name set by configure_log ("genoforest" before that).
[[nodiscard]] const std::string& log_stage();

/// Whether log_info() prints on this process (level and reporting rank).
[[nodiscard]] bool info_enabled();

void log_debug(const std::string& msg);
void log_info(const std::string& msg);
void log_warning(const std::string& msg);
/// Prints the job's one error line: "genoforest STAGE: error: msg".
void log_error(const std::string& msg);

/// Peak resident set size of this process, in bytes (from getrusage).
[[nodiscard]] long long peak_rss_bytes();
/// User + system CPU seconds used by this process so far.
[[nodiscard]] double cpu_seconds();
/// "1.2 GiB"-style rendering of a byte count.
[[nodiscard]] std::string human_bytes(long long bytes);

}  // namespace genoforest
