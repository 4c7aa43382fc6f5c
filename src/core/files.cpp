#include "genoforest/core/files.hpp"

#include <htslib/hts.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <ctime>
#include <memory>
#include <vector>

#include "genoforest/core/error.hpp"

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
  std::error_code ec;
  fs::rename(tmp_, final_, ec);
  if (ec) {
    throw IoError("cannot rename " + tmp_.string() + " to " + final_.string() + ": " + ec.message());
  }
  committed_ = true;
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
  AtomicOutput out(path, std::to_string(getpid()));
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
