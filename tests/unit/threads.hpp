#pragma once
// Ranks as threads: runs f(rank's Collectives) on n threads of one in-process group and returns
// each rank's result, for the tests of the distributed algorithms without mpirun.
#include <thread>
#include <vector>

#include "genoforest/ml/collectives.hpp"

template <class F>
auto on_threads(int n, F&& f) {
  auto group = genoforest::ml::thread_group(n);
  std::vector<decltype(f(*group[0]))> out(static_cast<std::size_t>(n));
  std::vector<std::thread> th;
  for (int r = 0; r < n; ++r) th.emplace_back([&, r] { out[static_cast<std::size_t>(r)] = f(*group[static_cast<std::size_t>(r)]); });
  for (auto& t : th) t.join();
  return out;
}
