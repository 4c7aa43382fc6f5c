#include "comm.hpp"

#include <algorithm>

#include <limits>

#include <time.h>

#include <cstdlib>
#include <string_view>
#include <new>

namespace genoforest::mpi {

namespace {
/// True when every rank of the job runs on this node: a run without a launcher, an mpirun whose
/// ranks are all local, or a one-node Slurm step.
bool single_node_job() {
  const char* size = std::getenv("OMPI_COMM_WORLD_SIZE");
  const char* local = std::getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
  if (size && local) return std::string_view(size) == local;
  if (const char* nodes = std::getenv("SLURM_STEP_NUM_NODES")) return std::string_view(nodes) == "1";
  return !std::getenv("PMIX_RANK") && !std::getenv("PMI_RANK") && !std::getenv("PMI_SIZE");
}
}  // namespace

Environment::Environment(int& argc, char**& argv) {
  // Open MPI weighs its messaging layers (PMLs) and their network transports when it starts:
  // 0.2 s here, even when every rank is on one node and talks through shared memory, which its
  // ob1 layer does. So a one-node job takes ob1 at once, unless the user chose a layer.
  if (!std::getenv("OMPI_MCA_pml") && single_node_job()) setenv("OMPI_MCA_pml", "ob1", 0);
  int provided = 0;
  if (MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
    throw InternalError("MPI_Init_thread failed");
  }
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
}

Environment::~Environment() {
  // Only an explicit finalize(): finalizing while an exception unwinds can hang other ranks.
}

void Environment::finalize() {
  if (!finalized_) {
    finalized_ = true;
    MPI_Finalize();
  }
}

void Environment::abort(int code) {
  MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);
}

void Backoff::pause() {
  timespec ts{0, us_ * 1000};
  nanosleep(&ts, nullptr);
  if (us_ < 2000) us_ *= 2;
}

Comm::Comm(MPI_Comm c) : comm_(c) {
  MPI_Comm_rank(comm_, &rank_);
  MPI_Comm_size(comm_, &size_);
}

void Comm::wait_quietly() const {
  if (size_ == 1) return;
  MPI_Request req;
  MPI_Ibarrier(comm_, &req);
  Backoff b;
  for (;;) {
    int done = 0;
    MPI_Test(&req, &done, MPI_STATUS_IGNORE);
    if (done) return;
    b.pause();
  }
}

bool Comm::wait_quietly_for(double seconds) const {
  if (size_ == 1) return true;
  MPI_Request req;
  MPI_Ibarrier(comm_, &req);
  Backoff b;
  const double until = MPI_Wtime() + seconds;
  for (;;) {
    int done = 0;
    MPI_Test(&req, &done, MPI_STATUS_IGNORE);
    if (done) return true;
    if (MPI_Wtime() > until) return false;  // the request stays pending: this rank ends without finalize
    b.pause();
  }
}

void describe_exception(std::exception_ptr e, ExitCode& code, std::string& message) {
  try {
    std::rethrow_exception(e);
  } catch (const Error& x) {
    code = x.code();
    message = x.what();
  } catch (const std::bad_alloc&) {
    code = ExitCode::kIo;
    message = "out of memory";
  } catch (const std::exception& x) {
    code = ExitCode::kInternal;
    message = std::string("internal error: ") + x.what();
  } catch (...) {
    code = ExitCode::kInternal;
    message = "internal error: unknown exception";
  }
}

void Comm::agree(std::exception_ptr local, double max_wait_seconds) const {
  if (size_ == 1) {
    if (!local) return;
    ExitCode code;
    std::string msg;
    describe_exception(local, code, msg);
    throw JobError(code, msg);
  }
  if (local && max_wait_seconds > 0) {
    // A rank with an error waits for the others only so long: one stuck in a collective call of a
    // library (parallel HDF5 after a failed write on this rank) would never come.
    if (!wait_quietly_for(max_wait_seconds)) {
      ExitCode code;
      std::string msg;
      describe_exception(local, code, msg);
      throw JobError(code, (rank_ != 0 ? "rank " + std::to_string(rank_) + ": " : std::string()) + msg, true);
    }
  } else {
    wait_quietly();
  }
  int mine = local ? rank_ : size_;
  int first = size_;
  MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, comm_);
  if (first == size_) return;
  std::string msg;
  int code = 0;
  if (rank_ == first) {
    ExitCode c;
    describe_exception(local, c, msg);
    code = static_cast<int>(c);
    if (first != 0) msg = "rank " + std::to_string(first) + ": " + msg;
  }
  MPI_Bcast(&code, 1, MPI_INT, first, comm_);
  long long len = static_cast<long long>(msg.size());
  MPI_Bcast(&len, 1, MPI_LONG_LONG, first, comm_);
  msg.resize(static_cast<std::size_t>(len));
  MPI_Bcast(msg.data(), static_cast<int>(len), MPI_CHAR, first, comm_);
  throw JobError(static_cast<ExitCode>(code), msg);
}

void Comm::bcast_bytes(std::string& bytes) const {
  if (size_ == 1) return;
  wait_quietly();
  long long len = static_cast<long long>(bytes.size());
  MPI_Bcast(&len, 1, MPI_LONG_LONG, 0, comm_);
  bytes.resize(static_cast<std::size_t>(len));
  constexpr long long kPiece = 1LL << 30;
  for (long long off = 0; off < len; off += kPiece) {
    const int n = static_cast<int>(std::min(kPiece, len - off));
    MPI_Bcast(bytes.data() + off, n, MPI_BYTE, 0, comm_);
  }
}

std::int64_t Comm::sum(std::int64_t v) const {
  std::int64_t out = v;
  if (size_ > 1) {
    wait_quietly();
    MPI_Allreduce(&v, &out, 1, MPI_INT64_T, MPI_SUM, comm_);
  }
  return out;
}

namespace {
void add_int128(void* in, void* inout, int* len, MPI_Datatype*) {
  auto* a = static_cast<const ExactSum::Int*>(in);
  auto* b = static_cast<ExactSum::Int*>(inout);
  for (int i = 0; i < *len; ++i) b[i] += a[i];
}
}  // namespace

void Comm::sum_exact(ExactSum& acc) const {
  if (size_ == 1) return;
  static_assert(sizeof(ExactSum::Int) == 16);
  MPI_Datatype t;
  MPI_Type_contiguous(16, MPI_BYTE, &t);
  MPI_Type_commit(&t);
  MPI_Op op;
  MPI_Op_create(&add_int128, 1, &op);
  wait_quietly();
  auto raw = acc.raw();
  std::vector<ExactSum::Int> out(raw.size());
  // In chunks: MPI counts are ints.
  constexpr std::size_t kChunk = 1 << 24;
  for (std::size_t at = 0; at < raw.size(); at += kChunk) {
    const auto n = static_cast<int>(std::min(kChunk, raw.size() - at));
    MPI_Allreduce(raw.data() + at, out.data() + at, n, t, op, comm_);
  }
  std::copy(out.begin(), out.end(), raw.begin());
  MPI_Op_free(&op);
  MPI_Type_free(&t);
}

std::vector<double> Comm::allgather(const std::vector<double>& part) const {
  if (size_ == 1) return part;
  std::string bytes(reinterpret_cast<const char*>(part.data()), part.size() * sizeof(double));
  const auto got = exchange(std::vector<std::string>(static_cast<std::size_t>(size_), bytes));
  std::vector<double> all;
  for (const auto& g : got) {
    const auto* p = reinterpret_cast<const double*>(g.data());
    all.insert(all.end(), p, p + g.size() / sizeof(double));
  }
  return all;
}

std::int64_t Comm::max(std::int64_t v) const {
  std::int64_t out = v;
  if (size_ > 1) {
    wait_quietly();
    MPI_Allreduce(&v, &out, 1, MPI_INT64_T, MPI_MAX, comm_);
  }
  return out;
}

std::vector<std::string> Comm::exchange(const std::vector<std::string>& send) const {
  if (static_cast<int>(send.size()) != size_) throw InternalError("Comm::exchange needs one piece per rank");
  if (size_ == 1) return send;
  std::vector<int> scount(static_cast<std::size_t>(size_)), rcount(scount.size()), sdisp(scount.size()),
      rdisp(scount.size());
  std::string sbuf;
  for (int q = 0; q < size_; ++q) {
    const auto& piece = send[static_cast<std::size_t>(q)];
    if (piece.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()) ||
        sbuf.size() + piece.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
      throw InternalError("Comm::exchange: more than 2 GiB to send at once (use smaller regions)");
    }
    sdisp[static_cast<std::size_t>(q)] = static_cast<int>(sbuf.size());
    scount[static_cast<std::size_t>(q)] = static_cast<int>(piece.size());
    sbuf += piece;
  }
  wait_quietly();
  MPI_Alltoall(scount.data(), 1, MPI_INT, rcount.data(), 1, MPI_INT, comm_);
  long long total = 0;
  for (int q = 0; q < size_; ++q) {
    rdisp[static_cast<std::size_t>(q)] = static_cast<int>(total);
    total += rcount[static_cast<std::size_t>(q)];
  }
  if (total > std::numeric_limits<int>::max()) {
    throw InternalError("Comm::exchange: more than 2 GiB to receive at once (use smaller regions)");
  }
  std::string rbuf(static_cast<std::size_t>(total), '\0');
  MPI_Alltoallv(sbuf.data(), scount.data(), sdisp.data(), MPI_BYTE, rbuf.data(), rcount.data(), rdisp.data(),
                MPI_BYTE, comm_);
  std::vector<std::string> out(static_cast<std::size_t>(size_));
  for (int q = 0; q < size_; ++q) {
    out[static_cast<std::size_t>(q)] = rbuf.substr(static_cast<std::size_t>(rdisp[static_cast<std::size_t>(q)]),
                                                   static_cast<std::size_t>(rcount[static_cast<std::size_t>(q)]));
  }
  return out;
}

}  // namespace genoforest::mpi
