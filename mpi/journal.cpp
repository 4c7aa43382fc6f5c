#include "journal.hpp"

#include <algorithm>
#include <csignal>
#include <cstring>
#include <vector>

#include <unistd.h>

#include "genoforest/core/error.hpp"
#include "genoforest/core/log.hpp"
#include "genoforest/core/text.hpp"

namespace genoforest::mpi {

namespace fs = std::filesystem;

namespace {

constexpr char kMagic[] = "genoforest-journal 1\n";

std::uint64_t checksum(const std::string& s) { return fnv1a64(s); }

bool read_exact(std::FILE* f, void* p, std::size_t n) { return n == 0 || std::fread(p, 1, n, f) == n; }

volatile std::sig_atomic_t g_stop_signal = 0;
volatile std::sig_atomic_t g_graceful = 0;
fs::path g_dir;
std::string g_key;

/// Inside a task set, the first signal asks for a clean stop at the next task boundary; outside
/// one (or at a second signal) the default action applies: the process ends at once.
// The line a stop at once writes (prepared beforehand: a handler may only call write()).
char g_stop_line[2][256] = {};  // [0]: SIGTERM, [1]: SIGINT
std::size_t g_stop_len[2] = {0, 0};

extern "C" void on_stop_signal(int sig) {
  if (g_graceful && g_stop_signal == 0) {
    g_stop_signal = sig;
    return;
  }
  const int k = sig == SIGINT ? 1 : 0;
  if (g_stop_len[k] > 0) {
    [[maybe_unused]] const auto w = ::write(STDERR_FILENO, g_stop_line[k], g_stop_len[k]);
  }
  _exit(static_cast<int>(ExitCode::kInterrupted));
}

}  // namespace

TaskJournal::TaskJournal(const fs::path& path, const std::string& key) : path_(path) {
  const std::string header = std::string(kMagic) + key + "\n";
  long valid_end = 0;
  if (std::FILE* in = std::fopen(path.c_str(), "rb")) {
    std::string got(header.size(), '\0');
    if (read_exact(in, got.data(), got.size()) && got == header) {
      valid_end = static_cast<long>(header.size());
      for (;;) {
        std::int64_t t = 0;
        std::uint64_t n = 0, sum = 0;
        if (!read_exact(in, &t, sizeof t) || !read_exact(in, &n, sizeof n) || n > (1ULL << 40)) break;
        std::string bytes(n, '\0');
        if (!read_exact(in, bytes.data(), n) || !read_exact(in, &sum, sizeof sum) || sum != checksum(bytes)) break;
        done_[t] = std::move(bytes);
        valid_end = std::ftell(in);
      }
    }
    std::fclose(in);
  }
  if (valid_end == 0) {  // new, or another configuration's: start over
    done_.clear();
    fp_ = std::fopen(path.c_str(), "wb");
    if (!fp_ || std::fwrite(header.data(), 1, header.size(), fp_) != header.size()) {
      throw IoError("cannot write the task journal " + path.string() + ": " + errno_text());
    }
  } else {
    if (::truncate(path.c_str(), valid_end) != 0) throw IoError("cannot trim the task journal " + path.string() + ": " + errno_text());
    fp_ = std::fopen(path.c_str(), "ab");
    if (!fp_) throw IoError("cannot append to the task journal " + path.string() + ": " + errno_text());
  }
  std::fflush(fp_);
}

TaskJournal::~TaskJournal() {
  if (fp_) std::fclose(fp_);
}

void TaskJournal::append(std::int64_t t, const std::string& bytes) {
  const std::uint64_t n = bytes.size(), sum = checksum(bytes);
  if (std::fwrite(&t, sizeof t, 1, fp_) != 1 || std::fwrite(&n, sizeof n, 1, fp_) != 1 ||
      (n > 0 && std::fwrite(bytes.data(), 1, n, fp_) != n) || std::fwrite(&sum, sizeof sum, 1, fp_) != 1 || std::fflush(fp_) != 0) {
    throw IoError("cannot append to the task journal " + path_.string() + ": " + errno_text());
  }
}

void set_journal_scope(const fs::path& dir, const std::string& key) {
  g_dir = dir;
  g_key = key;
}
const fs::path& journal_dir() noexcept { return g_dir; }
const std::string& journal_key() noexcept { return g_key; }

int stop_signal() noexcept { return g_stop_signal; }

GracefulStop::GracefulStop() noexcept { g_graceful = 1; }
GracefulStop::~GracefulStop() { g_graceful = 0; }

void set_stop_line(const std::string& stage, bool report) {
  for (int k = 0; k < 2; ++k) {
    const std::string line =
        report ? "genoforest " + stage + ": error: stopped at once by " + (k ? "SIGINT" : "SIGTERM") +
                     " (outside a task set, or a second signal): no output written; its temporaries go at the next run\n"
               : std::string();
    const std::size_t n = std::min(line.size(), sizeof g_stop_line[k] - 1);
    std::memcpy(g_stop_line[k], line.data(), n);
    g_stop_len[k] = n;
  }
}

void install_stop_handlers() {
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
}

}  // namespace genoforest::mpi
