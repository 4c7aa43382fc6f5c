#pragma once
/// @file journal.hpp
/// Resuming a task set after an interruption: the results of finished tasks, kept on disk.
///
/// Rank 0 appends each committed task's result bytes to the journal, with its length and a
/// checksum. A run killed at any moment (SIGKILL, a node failure) leaves a journal whose complete
/// records are valid; a torn last record is ignored. The next run of the same task set replays the
/// journaled results through its commit function in task order and runs only the other tasks, so
/// its outputs are those of an uninterrupted run. A journal written for other inputs or options
/// (its key differs) is discarded.
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>

namespace genoforest::mpi {

class TaskJournal {
 public:
  /// Opens `path` for the task set identified by `key`, loading the valid records of an earlier
  /// run with the same key and dropping everything else. Throws IoError naming the path.
  TaskJournal(const std::filesystem::path& path, const std::string& key);
  ~TaskJournal();
  TaskJournal(const TaskJournal&) = delete;
  TaskJournal& operator=(const TaskJournal&) = delete;

  /// Results of the tasks finished by earlier runs, by task index.
  [[nodiscard]] std::map<std::int64_t, std::string>& done() noexcept { return done_; }
  /// Records task `t`'s result (flushed to the OS before returning). Throws IoError.
  void append(std::int64_t t, const std::string& bytes);

 private:
  std::filesystem::path path_;
  std::FILE* fp_ = nullptr;
  std::map<std::int64_t, std::string> done_;
};

/// Where task journals go, set by `genoforest run` for the stage it runs (empty: no journals).
/// Each task set of the stage names its journal; `key` identifies the stage's configuration.
void set_journal_scope(const std::filesystem::path& dir, const std::string& key);
[[nodiscard]] const std::filesystem::path& journal_dir() noexcept;
[[nodiscard]] const std::string& journal_key() noexcept;

/// Set (from a signal handler) when SIGTERM or SIGINT arrives while a task set runs; run_tasks()
/// then stops handing out tasks, lets the running ones finish and ends the job with exit code
/// kInterrupted. Outside a task set, and at a second signal, the signal ends the process at once.
[[nodiscard]] int stop_signal() noexcept;
/// While alive, a stop signal is handled gracefully (run_tasks() holds one).
struct GracefulStop {
  GracefulStop() noexcept;
  ~GracefulStop();
  GracefulStop(const GracefulStop&) = delete;
  GracefulStop& operator=(const GracefulStop&) = delete;
};
/// Installs the SIGTERM/SIGINT handlers (once, in main).
void install_stop_handlers();
/// The one line a SIGTERM/SIGINT that stops the process at once writes (on the reporting rank);
/// the process then exits with code 7 (interrupted).
void set_stop_line(const std::string& stage, bool report);

}  // namespace genoforest::mpi
