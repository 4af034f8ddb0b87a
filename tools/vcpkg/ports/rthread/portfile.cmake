# rthread's vcpkg port, as a registry holds it: the sources are the release
# tarball of the tag v${VERSION} on GitHub, checked against its SHA512, so
# vcpkg's binary cache (keyed to the port's files, this SHA512 among them)
# never restores a build of other sources.
#
# SHA512: that of GitHub's archive of the tag, set when the tag is pushed
# (a first `vcpkg install rthread` with 0 fails and prints it).
#
# To build a checkout instead (local use, unreleased changes), make an
# overlay port of it: tools/vcpkg/make-overlay.sh, which replaces the
# download below with a `git archive` tarball of the checkout and its own
# SHA512, and keeps the rest of this file as it is.
vcpkg_from_github(
    OUT_SOURCE_PATH SOURCE_PATH
    REPO rthread/rthread
    REF "v${VERSION}"
    SHA512 0
    HEAD_REF main
)
# ---- the build: make-overlay.sh keeps everything from this line on ----

# A static library only: its thread registry and panic hook are process-wide
# state that must exist once.
vcpkg_check_linkage(ONLY_STATIC_LIBRARY)

vcpkg_cmake_configure(
    SOURCE_PATH "${SOURCE_PATH}"
    OPTIONS
        -DBUILD_TESTING=OFF
)
vcpkg_cmake_install()
# CMake installs the package to lib/cmake/rthread; vcpkg wants share/rthread.
vcpkg_cmake_config_fixup(CONFIG_PATH lib/cmake/rthread)
vcpkg_fixup_pkgconfig()

file(REMOVE_RECURSE "${CURRENT_PACKAGES_DIR}/debug/include")

file(INSTALL "${CMAKE_CURRENT_LIST_DIR}/usage" DESTINATION "${CURRENT_PACKAGES_DIR}/share/${PORT}")
vcpkg_install_copyright(FILE_LIST "${SOURCE_PATH}/LICENSE")
