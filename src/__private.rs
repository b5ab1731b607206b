//! Support code for the macro expansions. Not a public API: names and signatures here
//! change without notice.
