fn main() {
    println!("backend: {}", hetal_simd::Kernels::best().backend().name());
}
