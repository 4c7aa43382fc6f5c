# Writes OUT: the git description of the source tree (SRC) the binary is built from, at build
# time (not configure time), rewriting OUT only when it changes.
execute_process(COMMAND git -C "${SRC}" describe --always --dirty --abbrev=12
                OUTPUT_VARIABLE desc OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR desc STREQUAL "")
  set(desc "unknown (not built from a git checkout)")
endif()
file(WRITE "${OUT}.tmp"
     "// Generated at build time by cmake/git-version.cmake: do not edit.\n"
     "namespace genoforest {\nextern const char* const kGitCommit;\nconst char* const kGitCommit = \"${desc}\";\n}  // namespace genoforest\n")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different "${OUT}.tmp" "${OUT}")
file(REMOVE "${OUT}.tmp")
