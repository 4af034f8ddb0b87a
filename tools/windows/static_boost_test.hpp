// Forced into every compile of the Windows build (tools/windows/test.sh):
// the test Jamfile asks for Boost.Test's shared library (Debian ships it
// so), but the Windows build links the static one (a DLL would bring a
// second C++ runtime), whose symbols are not dllimport'ed. Its init API is
// the shared library's (tools/windows/toolchain.sh builds it so).
#undef BOOST_TEST_DYN_LINK
#define BOOST_TEST_ALTERNATIVE_INIT_API
