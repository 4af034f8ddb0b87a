// Loads the plugin named on the command line with dlopen() and runs it.
#include <dlfcn.h>

#include <cstdio>

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fputs("usage: host PLUGIN.so\n", stderr);
        return 2;
    }
    void* plugin = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (plugin == nullptr) {
        std::printf("host FAILED: dlopen: %s\n", dlerror());
        return 1;
    }
    using run_fn = int (*)();
    auto run = reinterpret_cast<run_fn>(dlsym(plugin, "rthread_plugin_run"));
    if (run == nullptr) {
        std::printf("host FAILED: dlsym: %s\n", dlerror());
        return 1;
    }
    const int status = run();
    dlclose(plugin);
    return status;
}
