/* The baseline a cache hit is compared with: a static program that does nothing. */
int main(void)
{
	return 0;
}
