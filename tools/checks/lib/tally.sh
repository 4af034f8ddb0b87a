# Sourced by check scripts: counts verdicts and ends with the line
# tools/run_tests.sh reads, "N passed, N failed" (non-zero exit on a failure).
passed=0
failed=0
finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" = 0 ]
    exit
}
ok() {
    echo "ok: $*"
    passed=$((passed + 1))
}
bad() {
    echo "FAILED: $*"
    failed=$((failed + 1))
}
