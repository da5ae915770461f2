package config

// SetDefault sets *p to def when *p is its type's zero value: how an Options struct's zero fields take their
// defaults.
func SetDefault[T comparable](p *T, def T) {
	var zero T
	if *p == zero {
		*p = def
	}
}
