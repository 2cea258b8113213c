//! `kridik-go-componentize WIT_DIR WORLD MODULE.wasm OUT.wasm`: embeds the
//! world's WIT into a core module built by Go (`GOOS=wasip1 -buildmode=c-shared`)
//! and wraps it into a component, adapting its WASI preview1 imports with the
//! reactor adapter of the wasmtime release kridik runs. What `wasm-tools
//! component embed` + `component new --adapt` do, without installing them.

use anyhow::{bail, Context, Result};
use wasi_preview1_component_adapter_provider::{
    WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
};
use wit_component::{ComponentEncoder, StringEncoding};
use wit_parser::Resolve;

fn main() {
    if let Err(e) = run() {
        eprintln!("kridik-go-componentize: {e:#}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [wit, world, module, out] = args.as_slice() else {
        bail!("usage: kridik-go-componentize WIT_DIR WORLD MODULE.wasm OUT.wasm");
    };
    let mut resolve = Resolve::default();
    let (package, _) = resolve
        .push_dir(wit)
        .with_context(|| format!("cannot read the WIT in {wit}"))?;
    let world = resolve.select_world(&[package], Some(world))?;
    let mut bytes = std::fs::read(module).with_context(|| format!("cannot read {module}"))?;
    wit_component::embed_component_metadata(
        &mut bytes,
        &resolve,
        world,
        StringEncoding::UTF8,
        false,
    )?;
    let component = ComponentEncoder::default()
        .module(&bytes)?
        .validate(true)
        // The adapter's first allocation happens inside Go's runtime start-up,
        // before Go code can run: give it pages of its own.
        .realloc_via_memory_grow(true)
        .adapter(
            WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME,
            WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
        )?
        .encode()
        .with_context(|| format!("{module} does not fit the `{}` world", args[1]))?;
    std::fs::write(out, component).with_context(|| format!("cannot write {out}"))?;
    Ok(())
}

/// The Go SDK lowers and lifts by hand (sdk/go/kridik/abi.go); these are the
/// layouts it assumes. If the WIT changes shape, this fails and names the record.
#[cfg(test)]
mod abi_layouts {
    use wit_parser::{Resolve, SizeAlign, Type, TypeDefKind};

    fn layout(
        resolve: &Resolve,
        sizes: &SizeAlign,
        interface: &str,
        name: &str,
    ) -> (usize, Vec<usize>) {
        let (_, iface) = resolve
            .interfaces
            .iter()
            .find(|(_, i)| i.name.as_deref() == Some(interface))
            .unwrap();
        let id = iface.types[name];
        let TypeDefKind::Record(r) = &resolve.types[id].kind else {
            panic!("{name} is not a record");
        };
        let offsets = sizes
            .field_offsets(r.fields.iter().map(|f| &f.ty))
            .into_iter()
            .map(|(o, _)| o.size_wasm32())
            .collect();
        (sizes.size(&Type::Id(id)).size_wasm32(), offsets)
    }

    #[test]
    fn the_go_sdk_offsets_match_the_wit() {
        let mut resolve = Resolve::default();
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../wit/v0.2.0");
        resolve.push_dir(root).unwrap();
        let mut sizes = SizeAlign::default();
        sizes.fill(&resolve).unwrap();
        let expect = [
            ("types", "object-ref", 52, vec![0, 8, 16, 24, 32, 44]),
            ("types", "evidence", 68, vec![0, 4, 60]),
            ("types", "remediation", 20, vec![0, 8]),
            (
                "types",
                "finding",
                120,
                vec![0, 8, 9, 12, 20, 28, 80, 88, 112],
            ),
            ("types", "check-info", 44, vec![0, 8, 16, 24, 28, 36]),
            ("snapshot", "object", 96, vec![0, 52, 60, 68, 76, 88]),
            ("snapshot", "unavailable", 20, vec![0, 8, 12]),
        ];
        for (interface, name, size, offsets) in expect {
            assert_eq!(
                layout(&resolve, &sizes, interface, name),
                (size, offsets),
                "{interface}.{name} changed shape: update sdk/go/kridik/abi.go"
            );
        }
    }
}
