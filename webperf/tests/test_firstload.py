from webperf.firstload import APP, OTHER, Chunk, first_load, package_of, script_paths


def test_script_paths_are_the_documents_own_chunks_in_order_once() -> None:
    html = ('<link rel="preload" as="script" href="/_next/static/chunks/a.js"/>'
            '<script src="/_next/static/chunks/a.js" async=""></script>'
            '<script nonce="x" src="/_next/static/chunks/b.js?dpl=1"></script>'
            '<script src="/_next/static/chunks/a.js"></script><script>inline()</script>'
            '<script src="https://cdn.example/x.js"></script>')
    assert script_paths(html) == ["/_next/static/chunks/a.js", "/_next/static/chunks/b.js"]


def test_package_of_source_map_sources() -> None:
    assert package_of("turbopack:///[project]/node_modules/@sentry/core/build/esm/index.js") == "@sentry/core"
    assert package_of("turbopack:///[project]/node_modules/next/dist/client/index.js") == "next"
    assert package_of("[project]/node_modules/a/node_modules/@scope/b/x.js") == "@scope/b"
    assert package_of("turbopack:///[project]/components/NavBar.tsx") == APP
    assert package_of("[unmapped]") == OTHER


def test_first_load_sums_chunks_and_splits_gzip_by_raw_share() -> None:
    chunks = {"/a.js": Chunk("/a.js", raw=1000, gzip=400, packages={"@sentry/core": 750, "react-dom": 250}),
              "/b.js": Chunk("/b.js", raw=500, gzip=100, packages={APP: 500})}
    load = first_load(["/a.js", "/b.js"], chunks)
    assert (load.raw, load.gzip) == (1500, 500)
    assert load.gzip_by_package == {"@sentry/core": 300.0, "react-dom": 100.0, APP: 100.0}
    assert load.sentry_gzip() == 300.0 and load.sentry_raw() == 750
