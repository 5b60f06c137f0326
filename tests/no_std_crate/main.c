/* Links the no_std staticlib and checks what it computes. */
#include <stdint.h>
#include <stdio.h>

uint64_t nostd_power(uint64_t x, uint32_t n);
uint64_t nostd_power_generic(uint64_t x, uint32_t n);
uint64_t nostd_power_handle(uint64_t x, uint32_t n);
uint32_t nostd_low_bits(uint32_t x, uint32_t bits);
uint64_t nostd_generic_calls(void);

static int failures;

static void check(const char *what, uint64_t got, uint64_t want) {
    if (got != want) {
        printf("FAIL %s: got %llu, want %llu\n", what, (unsigned long long)got, (unsigned long long)want);
        failures++;
    }
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
    if (failures == 0) printf("ok\n");
    return failures != 0;
}
