# libFuzzer targets of the vmm; included from tests/fuzz/CMakeLists.txt when
# VDI_FUZZ=ON (clang). Run: ./fuzz_virtqueue -max_total_time=60
add_executable(fuzz_virtqueue ${CMAKE_CURRENT_LIST_DIR}/fuzz_virtqueue.c)
target_link_libraries(fuzz_virtqueue PRIVATE vdi_common vdivmm)
target_link_options(fuzz_virtqueue PRIVATE -fsanitize=fuzzer,address,undefined)
