// EnCodec's two-layer LSTM with its skip (encodec/modules/lstm.py SLSTM: y = LSTM(x) + x), as one ggml graph piece:
// per layer, the input-side product for all frames as a matmul, then the recurrence as a custom op whose threads
// each own a slice of the hidden units. State (h, c) carries from chunk to chunk.
#pragma once

#include "encodec-model.h"
#include "ops.h"

#include <array>
#include <vector>

namespace vall_e {

// The recurrent state of both layers, zero at the start of a signal.
struct lstm_state {
    std::vector<float> h[2];
    std::vector<float> c[2];

    explicit lstm_state(int64_t dim);
};

// Y = LSTM(X) + X for x [D, T], continuing from `state` and updating it when the graph runs (so `state` must outlive
// the evaluation). The recurrence uses min(threads, D / 16) of the graph's threads; the graph must be run on exactly
// `threads` (cpu_compute does).
ggml_tensor * lstm_forward(graph_builder & g, const std::array<encodec_lstm_layer, 2> & layers, ggml_tensor * x,
                           lstm_state & state, int32_t threads);

}  // namespace vall_e
