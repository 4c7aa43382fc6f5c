#include "genoforest/core/files.hpp"

#include <htslib/hts.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <ctime>
#include <memory>
#include <vector>

#include "genoforest/core/error.hpp"
#include "genoforest/core/log.hpp"
#include "genoforest/core/text.hpp"

namespace genoforest {

namespace fs = std::filesystem;

AtomicOutput::AtomicOutput(fs::path final_path, const std::string& token)
    : final_(std::move(final_path)), tmp_(final_.string() + ".tmp." + token) {}

AtomicOutput::~AtomicOutput() {
  if (!committed_ && !released_) {
    std::error_code ec;
    fs::remove(tmp_, ec);  // best effort; a destructor never throws
  }
}

void AtomicOutput::commit() {
  // rename() replaces whatever holds the name: only ever a regular file (or a link to one).
  struct stat st {};
  if (stat(final_.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    throw IoError("will not replace " + final_.string() + ": it is not a regular file (the output stays in " +
                  tmp_.string() + ")");
  }
  std::error_code ec;
  fs::rename(tmp_, final_, ec);
  if (ec) {
    throw IoError("cannot rename " + tmp_.string() + " to " + final_.string() + ": " + ec.message());
  }
  committed_ = true;
}

FolderLock::FolderLock(const fs::path& dir, const std::string& name, const std::string& what) {
  const fs::path path = dir / name;
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw IoError("cannot create the lock file " + path.string() + ": " + errno_text());
  if (flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    char buf[512] = {};
    const ssize_t got = pread(fd_, buf, sizeof buf - 1, 0);
    ::close(fd_);
    fd_ = -1;
    if (err != EWOULDBLOCK) throw IoError("cannot lock " + path.string() + ": " + std::string(std::strerror(err)));
    std::string owner = got > 0 ? std::string(trim(std::string_view(buf, static_cast<std::size_t>(got)))) : "";
    throw UsageError("another genoforest process (" + (owner.empty() ? std::string("PID unknown") : owner) + ") is working in the " +
                     what + " " + dir.string() + " (it holds " + path.string() + "); wait for it to end, or use another folder");
  }
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  const std::string owner = "PID " + std::to_string(getpid()) + " on " + host + "\n";
  if (ftruncate(fd_, 0) != 0 || pwrite(fd_, owner.data(), owner.size(), 0) != static_cast<ssize_t>(owner.size())) {
    const std::string why = errno_text();
    ::close(fd_);
    fd_ = -1;
    throw IoError("cannot write the lock file " + path.string() + ": " + why);
  }
}

FolderLock::~FolderLock() {
  if (fd_ >= 0) ::close(fd_);  // closing drops the lock; the file stays (removing it would race)
}

void check_output_writable(const fs::path& path) {
  fs::path dir = path.parent_path();
  if (dir.empty()) dir = ".";
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    throw IoError("cannot write " + path.string() + ": folder " + dir.string() + " does not exist");
  }
  if (fs::is_directory(path, ec)) {
    throw IoError("cannot write " + path.string() + ": it is a folder");
  }
  if (access(dir.c_str(), W_OK | X_OK) != 0) {
    throw IoError("cannot write " + path.string() + ": folder " + dir.string() + " is not writable (" +
                  errno_text() + ")");
  }
}

namespace {

std::string kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a folder";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

std::string named(const NamedPath& p) { return p.option + " " + p.path.string(); }

/// The same file: the same device and inode when both exist (links of any kind), else the same
/// path once made absolute and resolved as far as it exists.
bool same_file(const fs::path& a, const fs::path& b) {
  struct stat sa {}, sb {};
  const bool ea = stat(a.c_str(), &sa) == 0, eb = stat(b.c_str(), &sb) == 0;
  if (ea && eb) return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
  if (ea != eb) return false;
  std::error_code e1, e2;
  const fs::path ca = fs::weakly_canonical(fs::absolute(a), e1), cb = fs::weakly_canonical(fs::absolute(b), e2);
  return !e1 && !e2 && ca == cb;
}

std::string host_id() {
  char name[256] = {};
  gethostname(name, sizeof name - 1);
  char hex[9];
  std::snprintf(hex, sizeof hex, "%08x", static_cast<unsigned>(fnv1a64(name) & 0xffffffffu));
  return hex;
}

}  // namespace

bool is_stdout_path(const fs::path& path) { return path == "-" || path == "/dev/stdout"; }

void check_outputs(const std::vector<NamedPath>& inputs, const std::vector<NamedPath>& outputs) {
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    const NamedPath& o = outputs[i];
    if (o.path.empty()) continue;
    if (is_stdout_path(o.path)) {
      for (std::size_t j = 0; j < i; ++j) {
        if (is_stdout_path(outputs[j].path)) {
          throw UsageError(named(o) + " and " + named(outputs[j]) + " both go to standard output: name a file for one");
        }
      }
      if (!o.stdout_ok) {
        throw UsageError(named(o) + ": this output is not text and cannot go to standard output; name a file");
      }
      continue;
    }
    struct stat st {};
    if (stat(o.path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
      throw UsageError(named(o) + " is " + kind_of(st.st_mode) +
                       ": outputs are written as new regular files and never replace anything else; name a file");
    }
    for (const NamedPath& in : inputs) {
      if (!in.path.empty() && !is_stdout_path(in.path) && same_file(o.path, in.path)) {
        throw UsageError(named(o) + " is the same file as " + named(in) +
                         ": writing it would destroy the input; choose another output path");
      }
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (!outputs[j].path.empty() && !is_stdout_path(outputs[j].path) && same_file(o.path, outputs[j].path)) {
        throw UsageError(named(o) + " is the same file as " + named(outputs[j]) + ": give each output its own path");
      }
    }
    check_output_writable(o.path);
  }
  for (const NamedPath& o : outputs) {
    if (!o.path.empty() && !is_stdout_path(o.path)) clean_stale_outputs(o.path);
  }
}

std::string temp_token() {
  const auto nonce = static_cast<unsigned long long>(std::chrono::steady_clock::now().time_since_epoch().count());
  return std::to_string(getpid()) + "-" + host_id() + "-" + std::to_string(nonce % 1000000007ULL);
}

std::vector<std::string> remove_stale_temporaries(const fs::path& dir, const std::string& prefix) {
  std::vector<std::string> removed;
  std::error_code ec;
  const std::string host = host_id();
  for (fs::directory_iterator it(dir.empty() ? fs::path(".") : dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!name.starts_with(prefix)) continue;
    // The token: PID-HOST-NONCE, all three present and well-formed; anything else is not ours.
    const std::string token = name.substr(prefix.size());
    const auto d1 = token.find('-'), d2 = token.find('-', d1 == std::string::npos ? d1 : d1 + 1);
    if (d1 == std::string::npos || d2 == std::string::npos || d1 == 0 || d2 + 1 >= token.size()) continue;
    const std::string pid_text = token.substr(0, d1), host_text = token.substr(d1 + 1, d2 - d1 - 1),
                      nonce = token.substr(d2 + 1);
    const auto digits = [](const std::string& t) {
      return !t.empty() && t.size() < 12 && t.find_first_not_of("0123456789") == std::string::npos;
    };
    if (!digits(pid_text) || !digits(nonce) || host_text != host) continue;
    const long pid = std::stol(pid_text);
    if (pid <= 0 || pid == getpid() || kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
    std::error_code rm;
    fs::remove_all(it->path(), rm);
    if (!rm) removed.push_back(name);
  }
  return removed;
}

void clean_stale_outputs(const fs::path& final_path) {
  const auto removed = remove_stale_temporaries(final_path.parent_path(), final_path.filename().string() + ".tmp.");
  if (removed.empty()) return;
  std::string names;
  for (const auto& r : removed) names += (names.empty() ? "" : ", ") + r;
  log_info("removed " + std::to_string(removed.size()) + " temporary file(s) of " + final_path.string() +
           " left by a run that was killed: " + names);
}

std::string with_disk_full_note(const std::string& message, const fs::path& path) {
  const std::string reason = std::strerror(ENOSPC);
  if (message.find(reason) != std::string::npos) return message;
  const fs::path dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  struct statvfs st {};
  if (statvfs(dir.c_str(), &st) != 0) return message;
  const auto free_bytes = static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize;
  if (free_bytes >= (16u << 20)) return message;
  return message + ": " + reason + " (" + std::to_string(free_bytes) + " bytes free in " + dir.string() + ")";
}

std::string failed_write(const fs::path& path, const std::string& verb) {
  const int err = errno;
  std::string message = verb + " " + path.string();
  if (err != 0) message += std::string(": ") + std::strerror(err);
  return with_disk_full_note(message, path);
}

FileDigest digest_file(const fs::path& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) throw IoError("cannot read " + path.string() + ": " + errno_text());
  std::unique_ptr<hts_md5_context, void (*)(hts_md5_context*)> md5(hts_md5_init(), &hts_md5_destroy);
  if (!md5) throw IoError("cannot allocate an MD5 context");
  std::vector<unsigned char> buf(1 << 20);
  FileDigest d;
  for (;;) {
    const std::size_t n = std::fread(buf.data(), 1, buf.size(), f.get());
    if (n > 0) {
      hts_md5_update(md5.get(), buf.data(), static_cast<unsigned long>(n));
      d.size += n;
    }
    if (n < buf.size()) {
      if (std::ferror(f.get())) throw IoError("cannot read " + path.string() + ": " + errno_text());
      break;
    }
  }
  unsigned char digest[16];
  hts_md5_final(digest, md5.get());
  char hex[33];
  hts_md5_hex(hex, digest);
  d.md5 = hex;
  return d;
}

void write_atomically(const std::filesystem::path& path, const std::string& bytes) {
  if (is_stdout_path(path)) {
    if (std::fwrite(bytes.data(), 1, bytes.size(), stdout) != bytes.size() || std::fflush(stdout) != 0) {
      throw IoError("cannot write to standard output: " + errno_text());
    }
    return;
  }
  clean_stale_outputs(path);
  AtomicOutput out(path, temp_token());
  {
    std::ofstream f(out.tmp(), std::ios::binary);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    f.close();
    if (!f) throw IoError("cannot write " + out.tmp().string() + ": " + errno_text());
  }
  out.commit();
}

std::string now_iso8601() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace genoforest
