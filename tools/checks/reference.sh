#!/usr/bin/env bash
# doc/reference.md names everything public: clang's AST of
# <rthread/rthread.hpp> lists the names each public header declares in
# namespace rthread (classes, their public members, functions, aliases,
# enumerators; not rthread::detail), and each must appear in that header's
# section of the reference (`## <rthread/X.hpp>`). Names the detail headers
# declare in namespace rthread itself (result) must appear somewhere. So do
# the RTHREAD_ macros of the public headers and the RTHREAD_ environment
# variables the library reads. Last line: "N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
python3 - <<'EOF_PY'
import collections, glob, re, subprocess, sys

dump = subprocess.run(
    ["clang++", "-std=c++17", "-Iinclude", "-fsyntax-only", "-Xclang", "-ast-dump",
     "-Xclang", "-ast-dump-filter", "-Xclang", "rthread", "-x", "c++", "include/rthread/rthread.hpp"],
    capture_output=True, text=True)
if dump.returncode != 0:
    print(dump.stderr[-3000:])
    print("0 passed, 1 failed")
    sys.exit(1)

DECLS = {"CXXRecordDecl", "ClassTemplateDecl", "FunctionDecl", "FunctionTemplateDecl", "EnumDecl",
         "TypeAliasDecl", "TypeAliasTemplateDecl", "CXXMethodDecl", "EnumConstantDecl"}
BODIES = {"FunctionDecl", "CXXMethodDecl", "CXXConstructorDecl", "CXXDestructorDecl",
          "CompoundStmt", "LambdaExpr", "FriendDecl", "NamespaceDecl"}
names = collections.defaultdict(set)  # header (or "detail") -> names
current_file = None
in_rthread = False
stack = []  # [depth, kind, public]
for raw in dump.stdout.split("\n"):
    if raw.startswith("Dumping "):
        in_rthread = raw.strip() == "Dumping rthread:"
        stack = []
        continue
    loc = re.search(r"<((?:/|include)[^:>]*\.hpp):\d+", raw)
    if loc:
        current_file = loc.group(1)
    line = re.match(r"^([ |`]*)[|`]-(\w+) 0x[0-9a-f]+ (.*)$", raw)
    if not in_rthread or not line:
        continue
    depth, kind, rest = len(line.group(1)) // 2, line.group(2), line.group(3)
    while stack and stack[-1][0] >= depth:
        stack.pop()
    if kind == "AccessSpecDecl":
        if stack:
            stack[-1][2] = " public" in rest
        continue
    ancestors = list(stack)
    is_struct = kind == "CXXRecordDecl" and re.search(r"\bstruct\b", rest) is not None
    stack.append([depth, kind, is_struct])
    if kind not in DECLS or "implicit" in rest.split() or current_file is None:
        continue
    if any(a[1] in BODIES for a in ancestors):
        continue  # rthread::detail, function bodies, friends
    if ancestors and ancestors[-1][1] == "CXXRecordDecl" and not ancestors[-1][2]:
        continue  # a private member
    if kind == "CXXRecordDecl" and ancestors and ancestors[-1][1] in ("CXXRecordDecl", "ClassTemplateDecl") and len(ancestors) > 1:
        continue  # the injected class name
    found = re.findall(r"(?:col|line):\d+(?::\d+)? (?:(?:referenced|used|constexpr|inline|static|invalid) )*"
                       r"(?:class |struct |enum class |enum )?([A-Za-z_]\w*)", rest)
    if not found or found[0].startswith("operator"):
        continue
    header = current_file.split("include/", 1)[-1]
    names["detail" if "/detail/" in header else header].add(found[0])

macros = set()
for path in glob.glob("include/rthread/*.hpp"):
    macros |= set(re.findall(r"#define (RTHREAD_(?!\w*_HPP\b)\w+)", open(path).read()))
env = set()
for path in glob.glob("libs/rthread/src/**/*.cpp", recursive=True):
    env |= set(re.findall(r'getenv\("(RTHREAD_\w+)"\)', open(path).read()))

text = open("doc/reference.md").read()
sections = {}
for m in re.finditer(r"^## `<([\w/.]+)>`\n(.*?)(?=^## |\Z)", text, re.S | re.M):
    sections[m.group(1)] = m.group(2)

passed = failed = 0
def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL: " + what)
def mentions(body, name):
    return re.search(r"(?<![\w])" + re.escape(name) + r"(?![\w])", body) is not None

for header in sorted(h for h in names if h != "detail"):
    body = sections.get(header)
    if body is None:
        check(False, f"doc/reference.md has no section ## `<{header}>`")
        continue
    missing = sorted(n for n in names[header] if not mentions(body, n))
    check(not missing, f"<{header}> declares {', '.join(missing)}, not in its section")
    if not missing:
        print(f"PASS: <{header}>: {len(names[header])} names, all in its section")
for n in sorted(names.get("detail", ())):
    check(mentions(text, n), f"rthread::{n} (declared in a detail header) is not in the reference")
for n in sorted(macros):
    check(mentions(text, n), f"macro {n} is not in the reference")
for n in sorted(env):
    check(mentions(text, n), f"environment variable {n} is not in the reference")
print(f"PASS: {len(macros)} macros, {len(env)} environment variables, "
      f"{len(names.get('detail', ()))} names from detail headers checked")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
EOF_PY
