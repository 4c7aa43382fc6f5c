#pragma once
/// @file comm.hpp
/// The only place that talks MPI directly (with scheduler.cpp and h5_parallel.cpp): an RAII
/// environment, a communicator wrapper with typed broadcasts, and agreement on failure.
///
/// Waiting never spins: Open MPI busy-polls inside blocking calls, which on a 2-core machine
/// steals the core a working rank needs. Every wait that may be long (a rank waiting for another
/// to finish planning or a task) goes through wait_quietly(): a non-blocking barrier tested with
/// growing sleeps.
#include <mpi.h>

#include <cstdint>
#include <exception>
#include <sstream>
#include <string>
#include <vector>

#include <boost/archive/binary_iarchive.hpp>
#include <boost/archive/binary_oarchive.hpp>

#include "genoforest/core/error.hpp"
#include "genoforest/core/exact_sum.hpp"

namespace genoforest::mpi {

/// An error every rank of the job knows about (after Comm::agree). main() ends the job cleanly
/// with its exit code; only rank 0 prints it.
class JobError : public Error {
 public:
  JobError(ExitCode code, const std::string& what, bool alone = false) : Error(code, what), alone_(alone) {}
  /// Only this rank knows: the others did not reach the agreement in time (stuck in a collective
  /// call inside a library, such as parallel HDF5 after a failed write). This rank reports and ends
  /// without MPI_Finalize; mpirun then stops the others.
  [[nodiscard]] bool alone() const noexcept { return alone_; }

 private:
  bool alone_ = false;
};

/// MPI_Init_thread / MPI_Finalize. Never finalizes while an exception unwinds (that hangs the
/// other ranks): main() decides between finalize() and abort().
class Environment {
 public:
  Environment(int& argc, char**& argv);
  ~Environment();
  Environment(const Environment&) = delete;
  Environment& operator=(const Environment&) = delete;
  void finalize();
  [[noreturn]] static void abort(int code);

 private:
  bool finalized_ = false;
};

/// Sleeps with a growing interval (50 us up to 2 ms): a waiting rank uses ~no CPU.
class Backoff {
 public:
  void pause();
  void reset() { us_ = 50; }

 private:
  long us_ = 50;
};

class Comm {
 public:
  explicit Comm(MPI_Comm c = MPI_COMM_WORLD);
  [[nodiscard]] int rank() const noexcept { return rank_; }
  [[nodiscard]] int size() const noexcept { return size_; }
  [[nodiscard]] bool is_root() const noexcept { return rank_ == 0; }
  [[nodiscard]] MPI_Comm get() const noexcept { return comm_; }

  /// Returns when every rank has called it, sleeping while waiting.
  void wait_quietly() const;
  /// wait_quietly() for at most `seconds`; false when the others did not all come in time.
  [[nodiscard]] bool wait_quietly_for(double seconds) const;
  /// How long a rank with an error waits in agree() for the others, after a collective call of a
  /// library that may leave them stuck, before it ends alone.
  static constexpr double kAgreeSeconds = 30.0;

  /// Each rank passes its local failure (or null). Every rank returns normally if none failed;
  /// otherwise every rank throws the same JobError: the failure of the lowest failing rank, its
  /// message prefixed with "rank R: " when R > 0 and the job has several ranks. With
  /// `max_wait_seconds` > 0 (after collective library calls that can leave ranks stuck), a rank
  /// with a failure waits that long for the others, then throws it alone (JobError::alone).
  void agree(std::exception_ptr local, double max_wait_seconds = 0) const;

  /// Runs `f` on rank 0 only, then agree()s on its outcome.
  template <class F>
  void on_root(F&& f) const {
    std::exception_ptr e;
    if (is_root()) {
      try {
        f();
      } catch (...) {
        e = std::current_exception();
      }
    }
    agree(e);
  }

  /// Broadcasts raw bytes from rank 0 (after a quiet wait).
  void bcast_bytes(std::string& bytes) const;
  /// Broadcasts any Boost-serializable object from rank 0.
  template <class T>
  void bcast(T& value) const;
  /// Sum of a 64-bit integer over ranks (exact; integers only, by design).
  [[nodiscard]] std::int64_t sum(std::int64_t v) const;
  /// Largest value over ranks.
  [[nodiscard]] std::int64_t max(std::int64_t v) const;
  /// Adds every rank's accumulators into every rank's (ExactSum::raw(): 128-bit integers, so
  /// the result has the same bits for any rank count). Collective.
  void sum_exact(ExactSum& acc) const;
  /// Concatenates every rank's `part`, in rank order, on every rank. Collective.
  [[nodiscard]] std::vector<double> allgather(const std::vector<double>& part) const;
  /// All-to-all: `send[q]` goes to rank q; returns what each rank sent to this one, by rank.
  /// Collective; `send` must have size() entries. Pieces over 2 GiB are an InternalError.
  [[nodiscard]] std::vector<std::string> exchange(const std::vector<std::string>& send) const;

 private:
  MPI_Comm comm_;
  int rank_ = 0;
  int size_ = 1;
};

/// Turns the current exception (inside a catch) into (exit code, message).
void describe_exception(std::exception_ptr e, ExitCode& code, std::string& message);

/// Serializes / deserializes with the same archive settings as Comm::bcast.
template <class T>
std::string to_bytes(const T& v) {
  std::ostringstream os(std::ios::binary);
  {
    boost::archive::binary_oarchive oa(os, boost::archive::no_header);
    oa << v;
  }
  return os.str();
}
template <class T>
T from_bytes(const std::string& s) {
  std::istringstream is(s, std::ios::binary);
  boost::archive::binary_iarchive ia(is, boost::archive::no_header);
  T v;
  ia >> v;
  return v;
}

template <class T>
void Comm::bcast(T& value) const {
  std::string bytes;
  if (is_root()) bytes = to_bytes(value);
  bcast_bytes(bytes);
  if (!is_root()) value = from_bytes<T>(bytes);
}

}  // namespace genoforest::mpi
