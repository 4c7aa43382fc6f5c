#include "scheduler.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <deque>
#include <list>
#include <map>
#include <optional>
#include <set>
#include <csignal>
#include <cstdio>
#include <unistd.h>
#include <vector>

#include <boost/serialization/string.hpp>
#include <boost/serialization/utility.hpp>
#include <boost/serialization/vector.hpp>

#include "genoforest/core/log.hpp"
#include "journal.hpp"

namespace genoforest::mpi {

namespace {

enum Tag : int { kTagTask = 101, kTagResult = 102, kTagFailure = 103, kTagAnnounce = 104 };
constexpr std::int64_t kStop = -1;

/// A failure, as carried from a worker to rank 0.
struct Failure {
  int rank = 0;
  std::int64_t task = 0;
  int code = 0;
  std::string message;
};

std::string encode(std::int64_t task, const std::string& payload) {
  std::string m(sizeof task, '\0');
  std::memcpy(m.data(), &task, sizeof task);
  return m + payload;
}
std::int64_t decode_task(const std::string& m) {
  std::int64_t t;
  std::memcpy(&t, m.data(), sizeof t);
  return t;
}

std::string recv_bytes(MPI_Comm comm, const MPI_Status& st) {
  int n = 0;
  MPI_Get_count(&st, MPI_BYTE, &n);
  std::string b(static_cast<std::size_t>(n), '\0');
  MPI_Recv(b.data(), n, MPI_BYTE, st.MPI_SOURCE, st.MPI_TAG, comm, MPI_STATUS_IGNORE);
  return b;
}

Failure make_failure(int rank, std::int64_t task, std::exception_ptr e) {
  Failure f;
  f.rank = rank;
  f.task = task;
  ExitCode c;
  describe_exception(e, c, f.message);
  f.code = static_cast<int>(c);
  return f;
}

TaskCounts g_counts;

/// Set while rank 0 runs a task of its own (run_dynamic_master): answers the workers.
const std::function<void()>* g_serve = nullptr;

/// The error every rank throws once a task set has failed (rank 0 builds it).
std::exception_ptr failure_error(const Comm& comm, const std::optional<Failure>& failure,
                                 const std::function<std::string(std::int64_t)>& describe, bool keyed = false) {
  if (!failure) return nullptr;
  if (failure->task < 0) return std::make_exception_ptr(JobError(static_cast<ExitCode>(failure->code), failure->message));
  // A keyed set's keys encode the task (align: sample << 32 | chunk): its description alone.
  std::string where = keyed && describe ? describe(failure->task) : "task " + std::to_string(failure->task);
  if (describe && !keyed) where += " (" + describe(failure->task) + ")";
  if (comm.size() > 1) where = "rank " + std::to_string(failure->rank) + ", " + where;
  return std::make_exception_ptr(JobError(static_cast<ExitCode>(failure->code), where + ": " + failure->message));
}

Failure interruption(std::int64_t done, std::int64_t total, bool journaled) {
  Failure f;
  f.task = -1;
  f.code = static_cast<int>(ExitCode::kInterrupted);
  f.message = std::string("interrupted by ") + (stop_signal() == SIGINT ? "SIGINT" : "SIGTERM") + " after " + std::to_string(done) +
              " of " + std::to_string(total) + " tasks" +
              (journaled ? "; finished tasks are kept: rerun the same command to resume" : "");
  return f;
}


void run_master(const Comm& comm, const TaskSet& ts) {
  const MPI_Comm c = comm.get();
  const int n_workers = comm.size() - 1;
  std::int64_t next = ts.begin;
  std::int64_t next_commit = ts.begin;
  std::vector<int> inflight(static_cast<std::size_t>(comm.size()), 0);
  std::map<std::int64_t, std::string> ready;
  std::optional<Failure> failure;
  std::optional<TaskJournal> journal;
  std::set<std::int64_t> resumed;
  if (!ts.journal.empty() && !journal_dir().empty()) {
    try {
      journal.emplace(journal_dir() / (ts.journal + ".journal"),
                      journal_key() + " " + ts.journal + " " + std::to_string(ts.begin) + "-" + std::to_string(ts.end));
      for (auto& [t, bytes] : journal->done()) {
        if (t < ts.begin || t >= ts.end) continue;
        resumed.insert(t);
        ready.emplace(t, std::move(bytes));
      }
      journal->done().clear();
      if (!resumed.empty()) {
        log_info("resuming: " + std::to_string(resumed.size()) + " of " + std::to_string(ts.end - ts.begin) +
                 " tasks were finished by an earlier run (" + ts.journal + ")");
      }
    } catch (...) {
      failure = make_failure(0, -1, std::current_exception());
    }
  }
  auto skip_resumed = [&] {
    while (next < ts.end && resumed.count(next)) ++next;
  };
  skip_resumed();
  // Task messages are 8 bytes (eager), but keep them alive until sent.
  std::list<std::pair<MPI_Request, std::string>> sends;

  auto send_task = [&](int w, std::int64_t t) {
    sends.emplace_back(MPI_REQUEST_NULL, encode(t, std::string()));
    auto& m = sends.back();
    MPI_Isend(m.second.data(), static_cast<int>(m.second.size()), MPI_BYTE, w, kTagTask, c, &m.first);
  };
  auto feed = [&](int w) {
    while (!failure && next < ts.end && inflight[static_cast<std::size_t>(w)] < kTasksInFlight) {
      send_task(w, next++);
      skip_resumed();
      ++inflight[static_cast<std::size_t>(w)];
    }
  };
  auto commit_ready = [&] {
    while (!failure) {
      auto it = ready.find(next_commit);
      if (it == ready.end()) break;
      const bool replay = resumed.count(next_commit) != 0;
      try {
        // Journaled before the commit: a commit is always replayed, so its side effects (an
        // output written, a temporary file removed) happen whether or not the run was cut here.
        if (journal && !replay) journal->append(next_commit, it->second);
        ts.commit(next_commit, std::move(it->second));
        ++(replay ? g_counts.resumed : g_counts.run);
      } catch (...) {
        failure = make_failure(0, next_commit, std::current_exception());
      }
      ready.erase(it);
      ++next_commit;
      if (ts.progress) ts.progress->tick();
    }
  };

  for (int w = 1; w <= n_workers; ++w) feed(w);
  Backoff backoff;
  for (;;) {
    bool busy = false;
    for (;;) {
      int flag = 0;
      MPI_Status st;
      MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, c, &flag, &st);
      if (!flag) break;
      busy = true;
      std::string msg = recv_bytes(c, st);
      --inflight[static_cast<std::size_t>(st.MPI_SOURCE)];
      if (st.MPI_TAG == kTagResult) {
        const std::int64_t t = decode_task(msg);
        if (!failure) ready.emplace(t, msg.substr(sizeof t));
      } else if (st.MPI_TAG == kTagFailure) {
        auto f = from_bytes<std::pair<std::int64_t, std::pair<int, std::string>>>(msg);
        if (!failure && f.second.first >= 0) {
          failure = Failure{st.MPI_SOURCE, f.first, f.second.first, f.second.second};
        }
      }
      feed(st.MPI_SOURCE);
    }
    commit_ready();
    sends.remove_if([](auto& s) {
      int done = 0;
      MPI_Test(&s.first, &done, MPI_STATUS_IGNORE);
      return done != 0;
    });
    bool outstanding = false;
    for (int w = 1; w <= n_workers; ++w) outstanding |= inflight[static_cast<std::size_t>(w)] > 0;
    if ((failure || next_commit == ts.end) && !outstanding) break;
    if (!failure && stop_signal() != 0 && next_commit < ts.end) {
      failure = interruption(next_commit - ts.begin, ts.end - ts.begin, journal.has_value());
      continue;
    }
    if (!failure && next < ts.end) {
      // Rank 0's own share: the next task in order, while the workers hold theirs.
      const std::int64_t t = next++;
      skip_resumed();
      try {
        ready.emplace(t, ts.run(t));
      } catch (...) {
        failure = make_failure(0, t, std::current_exception());
      }
      commit_ready();
      backoff.reset();
      continue;
    }
    if (!busy) backoff.pause(); else backoff.reset();
  }
  for (int w = 1; w <= n_workers; ++w) send_task(w, kStop);
  for (auto& s : sends) MPI_Wait(&s.first, MPI_STATUS_IGNORE);

  comm.agree(failure_error(comm, failure, ts.describe));
}


void run_dynamic_master(const Comm& comm, const DynamicTaskSet& ts) {
  const MPI_Comm c = comm.get();
  const int n_workers = comm.size() - 1;
  struct Entry {
    std::string payload;
    bool done = false;  ///< its result is here (run, or replayed from the journal)
    bool replay = false;
    std::string bytes;
  };
  std::map<std::int64_t, Entry> known;
  std::set<std::int64_t> pending, pending_long;  // not yet handed out: short tasks, long tasks
  std::int64_t committed = 0;
  std::optional<std::int64_t> last_committed;
  std::vector<int> inflight(static_cast<std::size_t>(comm.size()), 0);
  std::vector<int> long_held(static_cast<std::size_t>(comm.size()), 0);
  std::optional<Failure> failure;
  std::optional<TaskJournal> journal;
  std::map<std::int64_t, std::string> journaled;
  if (!ts.journal.empty() && !journal_dir().empty()) {
    try {
      journal.emplace(journal_dir() / (ts.journal + ".journal"), journal_key() + " " + ts.journal + " dynamic");
      journaled = std::move(journal->done());
      journal->done().clear();
      if (!journaled.empty()) {
        log_info("resuming: " + std::to_string(journaled.size()) + " tasks were finished by an earlier run (" + ts.journal + ")");
      }
    } catch (...) {
      failure = make_failure(0, -1, std::current_exception());
    }
  }
  const Announce announce = [&](std::int64_t key, std::string payload) {
    if (key < 0) throw InternalError("a task key must be >= 0");
    if (last_committed && key <= *last_committed) throw InternalError("a task announced below the commit point");
    if (known.count(key)) return;
    Entry& e = known[key];
    e.payload = std::move(payload);
    if (ts.progress) ts.progress->grow(1);
    if (auto it = journaled.find(key); it != journaled.end()) {
      e.done = true;
      e.replay = true;
      e.bytes = std::move(it->second);
      journaled.erase(it);
    } else {
      (ts.is_long && ts.is_long(key) ? pending_long : pending).insert(key);
    }
  };
  try {
    for (const auto& [key, payload] : ts.initial) announce(key, payload);
  } catch (...) {
    if (!failure) failure = make_failure(0, -1, std::current_exception());
  }
  auto is_long = [&](std::int64_t key) { return ts.is_long && ts.is_long(key); };

  std::list<std::pair<MPI_Request, std::string>> sends;
  auto send_task = [&](int w, std::int64_t key, const std::string& payload) {
    sends.emplace_back(MPI_REQUEST_NULL, encode(key, payload));
    auto& m = sends.back();
    MPI_Isend(m.second.data(), static_cast<int>(m.second.size()), MPI_BYTE, w, kTagTask, c, &m.first);
  };
  // A free worker gets a long task first (it makes work for the others), else the pending tasks in
  // key order; a worker running a long task gets nothing more.
  auto feed = [&](int w) {
    const auto wi = static_cast<std::size_t>(w);
    while (!failure && inflight[wi] < kTasksInFlight && !long_held[wi]) {
      const bool lng = inflight[wi] == 0 && !pending_long.empty();
      auto& from = lng ? pending_long : pending;
      if (from.empty()) break;
      const std::int64_t key = *from.begin();
      from.erase(from.begin());
      send_task(w, key, known.at(key).payload);
      ++inflight[wi];
      if (lng) long_held[wi] = 1;
    }
  };
  auto finish = [&](std::int64_t key, std::string&& bytes) {
    Entry& e = known.at(key);
    e.done = true;
    e.bytes = std::move(bytes);
  };
  auto commit_ready = [&] {
    while (!failure) {
      auto it = last_committed ? known.upper_bound(*last_committed) : known.begin();
      if (it == known.end() || !it->second.done) break;
      const std::int64_t key = it->first;
      Entry& e = it->second;
      last_committed = key;
      try {
        if (journal && !e.replay) journal->append(key, e.bytes);
        ts.commit(key, std::move(e.bytes), announce);
        ++(e.replay ? g_counts.resumed : g_counts.run);
      } catch (...) {
        failure = make_failure(0, key, std::current_exception());
      }
      e.bytes.clear();
      e.bytes.shrink_to_fit();
      e.payload.clear();
      e.payload.shrink_to_fit();
      ++committed;
      if (ts.progress) ts.progress->tick();
    }
  };
  auto all_committed = [&] {
    return known.empty() || (last_committed && known.upper_bound(*last_committed) == known.end());
  };

  // Answers the workers: announcements, results, failures; then hands out what they may take.
  // Runs from the loop below and, through serve_workers(), from within rank 0's own tasks.
  auto serve = [&] {
    bool got = false;
    for (;;) {
      int flag = 0;
      MPI_Status st;
      MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, c, &flag, &st);
      if (!flag) break;
      got = true;
      std::string msg = recv_bytes(c, st);
      const auto src = static_cast<std::size_t>(st.MPI_SOURCE);
      if (st.MPI_TAG == kTagAnnounce) {
        if (!failure) {
          try {
            announce(decode_task(msg), msg.substr(sizeof(std::int64_t)));
          } catch (...) {
            failure = make_failure(st.MPI_SOURCE, decode_task(msg), std::current_exception());
          }
        }
        continue;
      }
      --inflight[src];
      if (st.MPI_TAG == kTagResult) {
        const std::int64_t key = decode_task(msg);
        if (is_long(key)) long_held[src] = 0;
        if (!failure) finish(key, msg.substr(sizeof key));
      } else if (st.MPI_TAG == kTagFailure) {
        auto f = from_bytes<std::pair<std::int64_t, std::pair<int, std::string>>>(msg);
        if (is_long(f.first)) long_held[src] = 0;
        if (!failure && f.second.first >= 0) failure = Failure{st.MPI_SOURCE, f.first, f.second.first, f.second.second};
      }
    }
    for (int w = 1; w <= n_workers; ++w) feed(w);
    return got;
  };
  const std::function<void()> serve_hook = [&] { serve(); };

  Backoff backoff;
  for (;;) {
    const bool busy = serve();
    commit_ready();
    sends.remove_if([](auto& m) {
      int done = 0;
      MPI_Test(&m.first, &done, MPI_STATUS_IGNORE);
      return done != 0;
    });
    bool outstanding = false;
    for (int w = 1; w <= n_workers; ++w) outstanding |= inflight[static_cast<std::size_t>(w)] > 0;
    if (!outstanding && (failure || (pending.empty() && pending_long.empty() && all_committed()))) break;
    if (!failure && stop_signal() != 0) {
      failure = interruption(committed, static_cast<std::int64_t>(known.size()), journal.has_value());
      continue;
    }
    if (!failure) {
      // Rank 0's own share, after the workers': a short task, else a long one (a long task calls
      // serve_workers() as it goes).
      auto& from = pending.empty() ? pending_long : pending;
      if (!from.empty()) {
        const std::int64_t key = *from.begin();
        from.erase(from.begin());
        g_serve = &serve_hook;
        try {
          const std::string& payload = known.at(key).payload;  // std::map: stays valid as tasks are added
          std::string bytes = ts.run(key, payload, announce);
          finish(key, std::move(bytes));
        } catch (...) {
          failure = make_failure(0, key, std::current_exception());
        }
        g_serve = nullptr;
        commit_ready();
        backoff.reset();
        continue;
      }
    }
    if (!busy) backoff.pause(); else backoff.reset();
  }
  for (int w = 1; w <= n_workers; ++w) send_task(w, kStop, std::string());
  for (auto& m : sends) MPI_Wait(&m.first, MPI_STATUS_IGNORE);
  comm.agree(failure_error(comm, failure, ts.describe, true));
}

/// A worker of either kind of task set: runs what rank 0 sends (key and payload) until told to stop;
/// `announce` sends a new task to rank 0 (growing task sets only).
using WorkerRun = std::function<std::string(std::int64_t, const std::string&, const Announce&)>;
void run_worker(const Comm& comm, const WorkerRun& run) {
  const MPI_Comm c = comm.get();
  std::deque<std::pair<std::int64_t, std::string>> queue;
  bool stop = false;
  bool failed = false;
  std::list<std::pair<MPI_Request, std::string>> sends;
  Backoff backoff;
  auto receive = [&](bool wait) {
    for (;;) {
      int flag = 0;
      MPI_Status st;
      MPI_Iprobe(0, kTagTask, c, &flag, &st);
      if (flag) {
        std::string m = recv_bytes(c, st);
        const std::int64_t key = decode_task(m);
        if (key == kStop) {
          stop = true;
        } else {
          queue.emplace_back(key, m.substr(sizeof key));
        }
        backoff.reset();
        continue;
      }
      if (!wait || stop || !queue.empty()) return;
      backoff.pause();
    }
  };
  auto post = [&](int tag, std::string msg) {
    sends.emplace_back(MPI_REQUEST_NULL, std::move(msg));
    auto& m = sends.back();
    MPI_Isend(m.second.data(), static_cast<int>(m.second.size()), MPI_BYTE, 0, tag, c, &m.first);
  };
  const Announce announce = [&](std::int64_t key, std::string payload) { post(kTagAnnounce, encode(key, payload)); };
  while (!stop) {
    receive(true);
    while (!queue.empty()) {
      auto [key, payload] = std::move(queue.front());
      queue.pop_front();
      if (failed) {  // after our own failure, answer the rest without running them
        post(kTagFailure, to_bytes(std::make_pair(key, std::make_pair(-1, std::string()))));
        continue;
      }
      try {
        post(kTagResult, encode(key, run(key, payload, announce)));
      } catch (...) {
        const Failure f = make_failure(comm.rank(), key, std::current_exception());
        post(kTagFailure, to_bytes(std::make_pair(key, std::make_pair(f.code, f.message))));
        failed = true;
      }
      sends.remove_if([](auto& m) {
        int done = 0;
        MPI_Test(&m.first, &done, MPI_STATUS_IGNORE);
        return done != 0;
      });
      receive(false);
    }
  }
  for (auto& m : sends) {
    int done = 0;
    while (MPI_Test(&m.first, &done, MPI_STATUS_IGNORE), !done) backoff.pause();
  }
  comm.agree(nullptr);
}

}  // namespace

Progress::Progress(std::int64_t total, std::string unit)
    : total_(total), unit_(std::move(unit)), start_(std::chrono::steady_clock::now()), last_(start_) {}

void Progress::tick() {
  ++done_;
  const auto now = std::chrono::steady_clock::now();
  // A live bar on a terminal; one line every 5 s otherwise (SLURM logs, files).
  static const bool tty = ::isatty(STDERR_FILENO) != 0;
  const auto every = tty ? std::chrono::milliseconds(250) : std::chrono::milliseconds(5000);
  if (done_ != total_ && now - last_ < every) return;
  last_ = now;
  const double el = std::chrono::duration<double>(now - start_).count();
  const double rate = el > 0 ? static_cast<double>(done_) / el : 0.0;
  const double eta = rate > 0 ? static_cast<double>(total_ - done_) / rate : 0.0;
  char buf[200];
  if (tty) {
    if (!info_enabled()) return;
    const int width = 30;
    const int filled = total_ > 0 ? static_cast<int>(width * done_ / total_) : width;
    std::snprintf(buf, sizeof buf, "\r  %s [%.*s%*s] %3d%% %lld/%lld, %.1f/s, ETA %.0f s ", unit_.c_str(), filled,
                  "##############################", width - filled, "", total_ > 0 ? static_cast<int>(100 * done_ / total_) : 100,
                  static_cast<long long>(done_), static_cast<long long>(total_), rate, eta);
    std::fputs(buf, stderr);
    if (done_ == total_) std::fputs("\n", stderr);
    return;
  }
  std::snprintf(buf, sizeof buf, "%lld/%lld %s done, %.1f s elapsed, %.1f/s, ETA %.0f s", static_cast<long long>(done_),
                static_cast<long long>(total_), unit_.c_str(), el, rate, eta);
  log_info(buf);
}

TaskCounts task_counts() noexcept { return g_counts; }

void serve_workers() {
  if (!g_serve) return;
  const auto* serve = g_serve;
  g_serve = nullptr;  // not re-entrant
  (*serve)();
  g_serve = serve;
}

void run_tasks(const Comm& comm, const DynamicTaskSet& tasks) {
  const GracefulStop graceful;
  if (comm.is_root()) {
    run_dynamic_master(comm, tasks);
  } else {
    run_worker(comm, tasks.run);
  }
}

void run_collective_tasks(const Comm& comm, const TaskSet& ts) {
  if (ts.end <= ts.begin) {
    comm.agree(nullptr);
    return;
  }
  const GracefulStop graceful;
  std::optional<TaskJournal> journal;
  std::map<std::int64_t, std::string> replay;  // rank 0
  std::vector<std::int64_t> done;              // every rank: the tasks an earlier run finished
  {
    std::exception_ptr e;
    if (comm.is_root() && !ts.journal.empty() && !journal_dir().empty()) {
      try {
        journal.emplace(journal_dir() / (ts.journal + ".journal"), journal_key() + " " + ts.journal + " " +
                                                                      std::to_string(ts.begin) + "-" + std::to_string(ts.end));
        for (auto& [t, bytes] : journal->done()) {
          if (t < ts.begin || t >= ts.end) continue;
          done.push_back(t);
          replay.emplace(t, std::move(bytes));
        }
        journal->done().clear();
        if (!done.empty()) {
          log_info("resuming: " + std::to_string(done.size()) + " of " + std::to_string(ts.end - ts.begin) +
                   " tasks were finished by an earlier run (" + ts.journal + ")");
        }
      } catch (...) {
        e = std::current_exception();
      }
    }
    comm.agree(e);
  }
  comm.bcast(done);
  std::optional<Failure> failure;
  for (std::int64_t t = ts.begin; t < ts.end; ++t) {
    if (std::binary_search(done.begin(), done.end(), t)) {
      if (comm.is_root()) {
        try {
          ts.commit(t, std::move(replay.at(t)));
          ++g_counts.resumed;
        } catch (...) {
          failure = make_failure(0, t, std::current_exception());
        }
        if (ts.progress) ts.progress->tick();
      }
    } else {
      // Every rank stops at the same task: rank 0's word on a signal (SLURM signals them all).
      int stop = comm.is_root() && stop_signal() != 0 ? 1 : 0;
      comm.bcast(stop);
      if (stop) {
        if (comm.is_root()) failure = interruption(t - ts.begin, ts.end - ts.begin, journal.has_value());
        break;
      }
      std::string bytes = ts.run(t);  // collective: every rank takes part
      if (comm.is_root()) {
        try {
          if (journal) journal->append(t, bytes);
          ts.commit(t, std::move(bytes));
          ++g_counts.run;
        } catch (...) {
          failure = make_failure(0, t, std::current_exception());
        }
        if (ts.progress) ts.progress->tick();
      }
    }
    int failed = failure ? 1 : 0;
    comm.bcast(failed);
    if (failed) break;
  }
  comm.agree(comm.is_root() ? failure_error(comm, failure, ts.describe) : nullptr);
}

void run_tasks(const Comm& comm, const TaskSet& tasks) {
  if (tasks.end <= tasks.begin) {
    comm.agree(nullptr);
    return;
  }
  const GracefulStop graceful;
  if (comm.is_root()) {
    run_master(comm, tasks);
  } else {
    run_worker(comm, [&](std::int64_t t, const std::string&, const Announce&) { return tasks.run(t); });
  }
}

}  // namespace genoforest::mpi
