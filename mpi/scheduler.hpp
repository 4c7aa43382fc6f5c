#pragma once
/// @file scheduler.hpp
/// Dynamic master/worker distribution of independent tasks.
///
/// Rank 0 plans nothing here (the stage driver did); it hands task indices out in increasing
/// order, keeping up to kTasksInFlight per worker so that a worker never waits while rank 0 is
/// busy with a task of its own: rank 0 works too, between serving requests. Results travel to
/// rank 0 and are committed there strictly in task order (buffered when they arrive early).
/// With one rank the same loop runs every task inline.
///
/// Resume: with a journal (TaskSet::journal, under `genoforest run`), results of tasks finished by
/// an earlier run are replayed through commit() in order instead of being run again.
///
/// Interruption: after SIGTERM/SIGINT no new task is handed out; the running ones finish and are
/// committed (and journaled), then every rank throws JobError(kInterrupted).
///
/// Failure: the first task that throws (on any rank) stops the distribution; tasks already handed
/// out finish or are skipped, every rank leaves, and all of them throw the same JobError:
/// "task T (LABEL): reason" with the rank that ran it.
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "comm.hpp"

namespace genoforest::mpi {

inline constexpr int kTasksInFlight = 2;

/// Progress lines from rank 0 (every 5 s, and at the end) over a whole stage, which may run
/// several task sets.
class Progress {
 public:
  Progress(std::int64_t total, std::string unit);
  /// Counts one more finished task and prints a line when due.
  void tick();
  /// More tasks than planned (a task set that grows while it runs).
  void grow(std::int64_t n) noexcept { total_ += n; }

 private:
  std::int64_t total_;
  std::int64_t done_ = 0;
  std::string unit_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_;
};

struct TaskSet {
  std::int64_t begin = 0;  ///< first task index
  std::int64_t end = 0;    ///< one past the last
  /// Runs task t on whichever rank gets it; returns the bytes to send to rank 0.
  std::function<std::string(std::int64_t)> run;
  /// On rank 0 only, in task order: consumes task t's bytes.
  std::function<void(std::int64_t, std::string&&)> commit;
  /// Describes task t in messages ("region 2:1-1000000").
  std::function<std::string(std::int64_t)> describe;
  /// Optional progress reporter, ticked on rank 0 at each commit.
  Progress* progress = nullptr;
  /// Name of the task set's journal ("call.regions"), for resuming under `genoforest run`
  /// (journal.hpp). Only for task sets whose results are pure bytes: run() has no side effect
  /// that commit() relies on. Empty: never journaled.
  std::string journal;
};

/// Tasks committed and tasks replayed from journals on this rank since the program started.
struct TaskCounts {
  std::int64_t run = 0;
  std::int64_t resumed = 0;
};
[[nodiscard]] TaskCounts task_counts() noexcept;

/// Runs every task of `tasks` across the ranks of `comm`. Collective: every rank calls it.
/// Returns when all are committed; throws JobError on every rank if any failed.
void run_tasks(const Comm& comm, const TaskSet& tasks);

/// Runs every task of `tasks` on all ranks together: run(t) is collective (the variant-sharded
/// forest grows a group of trees with every rank), rank 0 commits, in order. Resume (the journal),
/// interruption (rank 0 decides between tasks, for all) and failures of commit() work as for
/// run_tasks; a run() that throws on one rank only is not caught here (its collectives would hang
/// the others: it must fail on all ranks alike, or end the job).
void run_collective_tasks(const Comm& comm, const TaskSet& tasks);

/// Adds a task (key, payload) to a DynamicTaskSet; adding a known key again does nothing.
using Announce = std::function<void(std::int64_t key, std::string payload)>;

/// A task set that grows while it runs: tasks have keys (any int64 >= 0, committed in increasing
/// key order) and carry a payload, and a running task may announce new tasks with larger keys,
/// which are handed out at once. (align: a sample's QC task announces each chunk of reads as it
/// is written, so chunks are aligned while the sample is still being read.)
///
/// Resume, interruption and failure work as for TaskSet. A commit may announce tasks too, which
/// makes a replayed task (whose run is skipped) announce what its run did.
struct DynamicTaskSet {
  std::vector<std::pair<std::int64_t, std::string>> initial;  ///< (key, payload)
  /// Runs a task on whichever rank gets it; returns the bytes to send to rank 0.
  std::function<std::string(std::int64_t key, const std::string& payload, const Announce& announce)> run;
  /// On rank 0 only, in increasing key order: consumes a task's bytes.
  std::function<void(std::int64_t key, std::string&& bytes, const Announce& announce)> commit;
  std::function<std::string(std::int64_t key)> describe;
  /// Long tasks (optional): a free worker gets one before any other task and nothing more until
  /// it is done; rank 0 takes one only when no other task waits, and the task must call
  /// serve_workers() as it goes.
  std::function<bool(std::int64_t key)> is_long;
  Progress* progress = nullptr;  ///< grows with each announced task
  std::string journal;
};

/// Runs a DynamicTaskSet across the ranks of `comm`, as run_tasks does. Collective.
void run_tasks(const Comm& comm, const DynamicTaskSet& tasks);

/// For a DynamicTaskSet's long-running tasks, between steps (a bwa batch): when the task runs on
/// rank 0, which also hands tasks out, this answers the workers meanwhile, so that none waits for
/// work while rank 0 computes. Does nothing elsewhere. Cheap (a probe when no message waits).
void serve_workers();

}  // namespace genoforest::mpi
