#pragma once
/// @file serialize.hpp
/// Boost.Serialization for core types that travel between ranks (non-intrusive, so that the
/// algorithm headers stay free of transport concerns).
#include <boost/serialization/string.hpp>
#include <boost/serialization/utility.hpp>
#include <boost/serialization/vector.hpp>

#include "genoforest/core/region.hpp"

namespace genoforest {
template <class Ar>
void serialize(Ar& ar, Region& r, unsigned /*version*/) {
  ar & r.contig & r.beg & r.end;
}
}  // namespace genoforest
