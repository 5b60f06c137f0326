/* Links the no_std staticlib and checks what it computes and the tables it
 * holds: read straight from the library's data, with no Rust code run. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

uint64_t nostd_power(uint64_t x, uint32_t n);
uint64_t nostd_power_generic(uint64_t x, uint32_t n);
uint64_t nostd_power_handle(uint64_t x, uint32_t n);
uint32_t nostd_low_bits(uint32_t x, uint32_t bits);
uint64_t nostd_generic_calls(void);
uint32_t nostd_fnv(const uint8_t *ptr, size_t len);
int32_t nostd_fir(const int32_t *xs, size_t n, const int32_t *taps, size_t ntaps);
int32_t nostd_fir_handle(const int32_t *xs, size_t n, const int32_t *taps, size_t ntaps);
uint64_t nostd_fir_generic_calls(void);

struct slice { const void *ptr; size_t len; };
extern const uint32_t NOSTD_CRC32[256];
extern const uint64_t NOSTD_SQUARES[100000];
extern const float NOSTD_SIN[1024];
struct slice nostd_primes(void);
struct slice nostd_greeting(void);
uint16_t nostd_staged(size_t i);
uint32_t nostd_lazy_answer(void);
extern const uint32_t NOSTD_FIB[20000];
struct slice nostd_build_note(void);

static int failures;

static void check(const char *what, uint64_t got, uint64_t want) {
    if (got != want) {
        printf("FAIL %s: got %llu, want %llu\n", what, (unsigned long long)got, (unsigned long long)want);
        failures++;
    }
}

static uint32_t crc_entry(uint32_t c) {
    for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    return c;
}

static int is_prime(uint32_t n) {
    for (uint32_t d = 2; d * d <= n; d++) if (n % d == 0) return 0;
    return 1;
}

int main(void) {
    uint64_t p = 1;
    for (uint32_t n = 0; n < 10; n++) {
        check("power", nostd_power(3, n), p);
        check("generic", nostd_power_generic(3, n), p);
        p *= 3;
    }
    check("handle 4", nostd_power_handle(2, 4), 16);
    check("handle 5", nostd_power_handle(2, 5), UINT64_MAX);
    check("low_bits 3", nostd_low_bits(0xff, 3), 7);
    check("low_bits 20", nostd_low_bits(0xfffff, 20), 0xfffff);
    /* n = 0, 1, 5..9 and bits = 20 ran the generic bodies. */
    check("generic calls", nostd_generic_calls(), 8);

    /* A #[staged::self_contained] module's kernel, at 4, 8 and another length. */
    for (size_t len = 0; len <= 8; len++) {
        uint32_t h = 0x811C9DC5u;
        for (size_t i = 0; i < len; i++) h = (h ^ (uint8_t)"abcdefgh"[i]) * 0x01000193u;
        check("fnv", nostd_fnv((const uint8_t *)"abcdefgh", len), h);
    }

    /* A slice of taps, unrolled: the two listed ones by their static
     * variants (through the dispatcher and a handle), another one by the
     * generic body. */
    static const int32_t taps_a[] = {1, 2, 1}, taps_b[] = {3, 0, 5, 7}, taps_c[] = {1, -1};
    static const struct { const int32_t *taps; size_t n; int listed; } filters[] = {
        {taps_a, 3, 1}, {taps_b, 4, 1}, {taps_c, 2, 0},
    };
    static const int32_t xs[] = {5, -2, 9, 1000, 7};
    for (size_t f = 0; f < 3; f++) {
        int32_t want = 0;
        for (size_t k = 0; k < filters[f].n; k++) want += filters[f].taps[k] * xs[k];
        check("fir", (uint64_t)(int64_t)nostd_fir(xs, 5, filters[f].taps, filters[f].n), (uint64_t)(int64_t)want);
        int32_t handle = nostd_fir_handle(xs, 5, filters[f].taps, filters[f].n);
        check("fir handle", (uint64_t)(int64_t)handle, (uint64_t)(int64_t)(filters[f].listed ? want : INT32_MIN));
    }
    /* Only {1, -1} ran the generic body. */
    check("fir generic calls", nostd_fir_generic_calls(), 1);

    /* const_init! tables. */
    for (uint32_t i = 0; i < 256; i++) check("crc32", NOSTD_CRC32[i], crc_entry(i));
    for (uint64_t i = 0; i < 100000; i++) check("squares", NOSTD_SQUARES[i], i * i);
    for (int i = 0; i < 1024; i++) {
        float want = sinf((float)i / 100.0f);
        uint32_t got_bits, want_bits;
        memcpy(&got_bits, &NOSTD_SIN[i], 4);
        memcpy(&want_bits, &want, 4);
        check("sin bits", got_bits, want_bits);
    }
    struct slice primes = nostd_primes();
    const uint32_t *prime = primes.ptr;
    size_t count = 0;
    for (uint32_t n = 2; n < 10000; n++) {
        if (!is_prime(n)) continue;
        if (count < primes.len) check("prime", prime[count], n);
        count++;
    }
    check("prime count", primes.len, count);
    struct slice greeting = nostd_greeting();
    const char *want = "h\xc3\xa9llo from 1229 primes";
    check("greeting length", greeting.len, strlen(want));
    check("greeting", memcmp(greeting.ptr, want, strlen(want)), 0);
    for (size_t i = 0; i < 8; i++) check("staged", nostd_staged(i), 1u << i);
    check("lazy answer", nostd_lazy_answer(), crc_entry(1) >> 24);
    /* build.rs tables. */
    uint32_t a = 0, b = 1;
    for (int i = 0; i < 20000; i++) {
        check("fib", NOSTD_FIB[i], a);
        uint32_t next = a + b;
        a = b;
        b = next;
    }
    struct slice note = nostd_build_note();
    check("build note", note.len == strlen("baked by build.rs") && memcmp(note.ptr, "baked by build.rs", note.len) == 0, 1);
    if (failures == 0) printf("ok\n");
    return failures != 0;
}
