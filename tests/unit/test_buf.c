/* test_buf.c -- util/buf: the invariants buf.h promises. */
#include <stdlib.h>
#include <string.h>

#include "t.h"
#include "util/buf.h"

static void test_init_is_empty_string(void)
{
	dc_buf b = DC_BUF_INIT;
	dc_buf c;

	CHECK(b.ptr != NULL);
	CHECK_EQ_STR(b.ptr, "");
	CHECK_EQ_INT(b.len, 0);
	CHECK(!dc_buf_failed(&b));
	dc_buf_init(&c, 10, 0);
	CHECK(c.ptr != NULL);
	CHECK_EQ_STR(c.ptr, "");
	CHECK_EQ_INT(c.max, 10);
	CHECK_EQ_INT(c.secret, 0);
	dc_buf_release(&b);
	dc_buf_release(&c);
}

static void test_appends_keep_nul(void)
{
	dc_buf b = DC_BUF_INIT;
	char big[300];

	CHECK_EQ_INT(dc_buf_puts(&b, "abc"), 0);
	CHECK_EQ_INT(b.len, 3);
	CHECK_EQ_INT(b.ptr[3], '\0');
	CHECK_EQ_INT(dc_buf_putc(&b, 'd'), 0);
	CHECK_EQ_INT(dc_buf_put(&b, "efgXXX", 3), 0);
	CHECK_EQ_STR(b.ptr, "abcdefg");
	CHECK_EQ_INT(b.len, 7);
	CHECK_EQ_INT(dc_buf_put(&b, NULL, 0), 0);
	CHECK_EQ_INT(b.len, 7);
	/* force several growths; content and terminator survive each */
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK_EQ_INT(dc_buf_puts(&b, big), 0);
	CHECK_EQ_INT(b.len, 7 + sizeof(big) - 1);
	CHECK_EQ_INT(strlen(b.ptr), b.len);
	CHECK(!strncmp(b.ptr, "abcdefgzzz", 10));
	CHECK(b.cap > b.len);
	/* binary data with a NUL inside still gets a terminator after len */
	dc_buf_reset(&b);
	CHECK_EQ_INT(dc_buf_put(&b, "a\0b", 3), 0);
	CHECK_EQ_INT(b.len, 3);
	CHECK(!memcmp(b.ptr, "a\0b", 4));
	dc_buf_release(&b);
}

static void test_printf(void)
{
	dc_buf b = DC_BUF_INIT;
	char long_arg[200];

	CHECK_EQ_INT(dc_buf_puts(&b, "x="), 0);
	CHECK_EQ_INT(dc_buf_printf(&b, "%d,%s,%05.1f", 42, "str", 3.14159), 0);
	CHECK_EQ_STR(b.ptr, "x=42,str,003.1");
	CHECK_EQ_INT(b.len, strlen("x=42,str,003.1"));
	memset(long_arg, 'q', sizeof(long_arg) - 1);
	long_arg[sizeof(long_arg) - 1] = '\0';
	CHECK_EQ_INT(dc_buf_printf(&b, "[%s]", long_arg), 0);
	CHECK_EQ_INT(b.len, strlen("x=42,str,003.1") + 2 + sizeof(long_arg) - 1);
	CHECK_EQ_INT(strlen(b.ptr), b.len);
	CHECK_EQ_INT(b.ptr[b.len - 1], ']');
	CHECK_EQ_INT(dc_buf_printf(&b, "%s", ""), 0);
	CHECK_EQ_INT(strlen(b.ptr), b.len);
	dc_buf_release(&b);
}

static void test_cap_is_sticky(void)
{
	dc_buf b;

	dc_buf_init(&b, 5, 0);
	CHECK_EQ_INT(dc_buf_puts(&b, "1234"), 0);
	CHECK_EQ_INT(dc_buf_putc(&b, '5'), 0); /* exactly max is allowed */
	CHECK(!dc_buf_failed(&b));
	CHECK_EQ_INT(b.overflow, 0);
	CHECK_EQ_INT(dc_buf_putc(&b, '6'), DC_ERR);
	CHECK(dc_buf_failed(&b));
	CHECK_EQ_INT(b.overflow, 1);
	CHECK_EQ_STR(b.ptr, "12345"); /* the failing append changed nothing */
	CHECK_EQ_INT(b.len, 5);
	dc_buf_release(&b);

	/* a refused append leaves the content as it was, and later ones that
	 * would fit are no-ops too */
	dc_buf_init(&b, 8, 0);
	CHECK_EQ_INT(dc_buf_puts(&b, "abc"), 0);
	CHECK_EQ_INT(dc_buf_puts(&b, "defghijk"), DC_ERR);
	CHECK_EQ_STR(b.ptr, "abc");
	CHECK_EQ_INT(b.len, 3);
	CHECK_EQ_INT(dc_buf_puts(&b, "d"), DC_ERR);
	CHECK_EQ_INT(dc_buf_putc(&b, 'd'), DC_ERR);
	CHECK_EQ_INT(dc_buf_put(&b, "d", 1), DC_ERR);
	CHECK_EQ_INT(dc_buf_printf(&b, "%s", "d"), DC_ERR);
	CHECK_EQ_STR(b.ptr, "abc");
	CHECK_EQ_INT(b.len, 3);
	CHECK(dc_buf_failed(&b));
	CHECK_EQ_INT(b.overflow, 1);
	dc_buf_release(&b);

	/* printf past the cap */
	dc_buf_init(&b, 6, 0);
	CHECK_EQ_INT(dc_buf_puts(&b, "ab"), 0);
	CHECK_EQ_INT(dc_buf_printf(&b, "%d", 12345), DC_ERR);
	CHECK_EQ_STR(b.ptr, "ab");
	CHECK_EQ_INT(b.len, 2);
	CHECK(dc_buf_failed(&b));
	CHECK_EQ_INT(b.overflow, 1);
	CHECK_EQ_INT(dc_buf_puts(&b, "c"), DC_ERR);
	CHECK_EQ_STR(b.ptr, "ab");
	dc_buf_release(&b);

	/* a huge length overflows without touching memory */
	{
		dc_buf h = DC_BUF_INIT;

		CHECK_EQ_INT(dc_buf_puts(&h, "x"), 0);
		CHECK_EQ_INT(dc_buf_put(&h, "y", (size_t)-1), DC_ERR);
		CHECK(dc_buf_failed(&h));
		CHECK_EQ_INT(h.overflow, 1);
		CHECK_EQ_STR(h.ptr, "x");
		dc_buf_release(&h);
	}
}

static void test_detach(void)
{
	dc_buf b = DC_BUF_INIT;
	size_t len = 99;
	char *s;

	CHECK_EQ_INT(dc_buf_puts(&b, "hello"), 0);
	s = dc_buf_detach(&b, &len);
	CHECK_EQ_STR(s, "hello");
	CHECK_EQ_INT(len, 5);
	/* the buffer is left empty and usable */
	CHECK_EQ_STR(b.ptr, "");
	CHECK_EQ_INT(b.len, 0);
	CHECK_EQ_INT(dc_buf_puts(&b, "again"), 0);
	CHECK_EQ_STR(b.ptr, "again");
	CHECK_EQ_STR(s, "hello"); /* the detached memory is not shared */
	free(s);
	dc_buf_release(&b);

	/* detaching an empty buffer still gives memory the caller can free */
	len = 99;
	s = dc_buf_detach(&b, &len);
	if (CHECK(s != NULL)) {
		CHECK_EQ_STR(s, "");
		CHECK(s != dc_buf_empty);
	}
	CHECK_EQ_INT(len, 0);
	free(s);
	s = dc_buf_detach(&b, NULL);
	CHECK(s != NULL);
	free(s);

	/* a failed buffer gives NULL and is left empty and usable */
	dc_buf_init(&b, 3, 0);
	CHECK_EQ_INT(dc_buf_puts(&b, "ab"), 0);
	CHECK_EQ_INT(dc_buf_puts(&b, "cd"), DC_ERR);
	s = dc_buf_detach(&b, &len);
	CHECK(s == NULL);
	CHECK(!dc_buf_failed(&b));
	CHECK_EQ_STR(b.ptr, "");
	CHECK_EQ_INT(dc_buf_puts(&b, "xy"), 0);
	CHECK_EQ_STR(b.ptr, "xy");
	dc_buf_release(&b);
}

static void test_reset_and_release(void)
{
	dc_buf b = DC_BUF_INIT;
	char *before;
	size_t cap;

	/* release of an empty buffer, twice, and reset of one */
	dc_buf_release(&b);
	dc_buf_release(&b);
	dc_buf_reset(&b);
	CHECK_EQ_STR(b.ptr, "");
	CHECK_EQ_INT(b.len, 0);

	CHECK_EQ_INT(dc_buf_puts(&b, "some text"), 0);
	before = b.ptr;
	cap = b.cap;
	dc_buf_reset(&b);
	CHECK_EQ_INT(b.len, 0);
	CHECK_EQ_STR(b.ptr, "");
	CHECK(b.ptr == before); /* keeps memory */
	CHECK_EQ_INT(b.cap, cap);
	CHECK_EQ_INT(dc_buf_puts(&b, "new"), 0);
	CHECK_EQ_STR(b.ptr, "new");
	dc_buf_release(&b);
	CHECK_EQ_STR(b.ptr, "");
	CHECK_EQ_INT(b.len, 0);
	CHECK(!dc_buf_failed(&b));
	/* usable after release */
	CHECK_EQ_INT(dc_buf_puts(&b, "more"), 0);
	CHECK_EQ_STR(b.ptr, "more");
	dc_buf_release(&b);
}

static void test_secret(void)
{
	dc_buf b;
	char big[200];
	size_t i, n;
	int zero = 1;

	dc_buf_init(&b, 0, DC_BUF_SECRET);
	CHECK_EQ_INT(b.secret, 1);
	CHECK_EQ_INT(dc_buf_puts(&b, "hunter2-password"), 0);
	/* growth keeps the content */
	memset(big, 's', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK_EQ_INT(dc_buf_puts(&b, big), 0);
	CHECK(!strncmp(b.ptr, "hunter2-passwordsss", 19));
	CHECK_EQ_INT(strlen(b.ptr), b.len);
	/* reset of a secret buffer wipes what it held, keeping the memory */
	n = b.len;
	dc_buf_reset(&b);
	for (i = 0; i < n; i++)
		if (b.ptr[i])
			zero = 0;
	CHECK(zero);
	CHECK_EQ_INT(b.len, 0);
	CHECK_EQ_INT(dc_buf_puts(&b, "again"), 0);
	CHECK_EQ_STR(b.ptr, "again");
	dc_buf_release(&b);
	CHECK_EQ_STR(b.ptr, "");
}

int main(void)
{
	T_RUN(test_init_is_empty_string);
	T_RUN(test_appends_keep_nul);
	T_RUN(test_printf);
	T_RUN(test_cap_is_sticky);
	T_RUN(test_detach);
	T_RUN(test_reset_and_release);
	T_RUN(test_secret);
	return t_done();
}
