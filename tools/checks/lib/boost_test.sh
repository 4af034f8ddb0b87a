# Sourced by tools/run_tests.sh and by the check scripts that run suites
# again: the b2 properties of each variant of the test matrix (run_tests.sh
# builds variant NAME under bin/matrix/NAME, and a check that reuses a build
# must ask for the same properties), and the counts of a Boost.Test XML
# report.
declare -A matrix_props=(
    [gcc-debug]="toolset=gcc variant=debug"
    [gcc-asan-ubsan]="toolset=gcc variant=debug address-sanitizer=norecover undefined-sanitizer=norecover"
    [gcc-tsan]="toolset=gcc variant=debug thread-sanitizer=norecover"
    [clang-debug]="toolset=clang variant=debug"
    [gcc-cxx20]="toolset=gcc variant=debug cxxstd=20"
    [gcc-posix-backend]="toolset=gcc variant=debug rthread-sys=posix"
    [gcc-cxx20-posix]="toolset=gcc variant=debug cxxstd=20 rthread-sys=posix"
    [windows-wine]="variant=debug optimization=debug inlining=on"
)

# failed_cases REPORT: the cases that failed, aborted or timed out, a line each.
failed_cases() {
    grep -oE '<TestCase name="[^"]*" result="(failed|aborted|timed_out)"' "$1"
}
# cases_passed REPORT, cases_failed REPORT: how many.
cases_passed() {
    grep -o '<TestCase name="[^"]*" result="passed"' "$1" | wc -l
}
cases_failed() {
    failed_cases "$1" | wc -l
}
