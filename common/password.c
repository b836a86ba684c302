/* password.c - placeholder, being written. */
