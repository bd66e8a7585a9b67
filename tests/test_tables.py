"""Table extraction on tables written for these tests: each mechanism of tables.py, and the
numbers in tables that are not parameter counts."""

from __future__ import annotations

import bisect
import random
import re

import pytest

from paramminer import tables
from paramminer.countexpr import COUNT_TEXT_RE, count_of_match
from paramminer.keyscan import ascii_fold
from paramminer.lexicon import load_lexicon
from paramminer.tables import TableCell, find_table_cells

LEXICON = load_lexicon()


def cells(text: str) -> list[TableCell]:
    found = find_table_cells(text, LEXICON)
    for cell in found:  # every cell points at its number in the page text
        assert text[cell.start : cell.end].strip() == text[cell.start : cell.end]
        assert any(ch.isdigit() for ch in text[cell.start : cell.end])
    return found


def values(text: str) -> list[int]:
    return [c.value for c in cells(text)]


def by_label(text: str) -> dict[str, int]:
    return {c.label: c.value for c in cells(text)}


def page(*lines: str) -> str:
    return "\n".join(lines)


# --- where a table starts and ends -------------------------------------------------------


def test_a_table_runs_past_thirty_rows_until_its_caption() -> None:
    rows = [f"Net-{i} {10 + i}.5 {70 + i % 10}.1" for i in range(40)]
    text = page("Model Params (M) Top-1", *rows, "Table 4: Accuracy of the Net family.",
                "Net-99 77.7 88.8")
    found = cells(text)
    assert [c.value for c in found] == [(10 + i) * 1_000_000 + 500_000 for i in range(40)]
    assert {c.caption for c in found} == {"Table 4: Accuracy of the Net family."}


def test_returning_prose_ends_a_table() -> None:
    text = page(
        "Model #Params Top-1",
        "NetA 12.5M 76.1",
        "NetB 48.2M 80.3",
        "We train each of the models for 300 epochs and report the accuracy on the held-out",
        "Later 33.3M 81.0",
    )
    assert values(text) == [12_500_000, 48_200_000]


def test_a_blank_line_ends_a_table() -> None:
    text = page("Model Params (M) Top-1", "NetA 12.5 76.1", "", "Sum 99.0 12.0")
    assert values(text) == [12_500_000]


def test_caption_above_spanning_lines_and_caption_below() -> None:
    above = page(
        "Table 2: Comparison with earlier networks on the validation set of the",
        "benchmark, all trained from scratch.",
        "Model #Params Top-1",
        "NetA 12.5M 76.1",
    )
    below = page("Model #Params Top-1", "NetA 12.5M 76.1", "Table 3: Results.", "More text.")
    assert cells(above)[0].caption == (
        "Table 2: Comparison with earlier networks on the validation set of the benchmark, "
        "all trained from scratch."
    )
    assert cells(below)[0].caption.startswith("Table 3: Results.")


def test_header_rows_ending_in_abbreviations_are_headers() -> None:
    text = page("Model Params MMLU GSM8K Avg.", "Halcyon-S 1.3B 40.1 12.0 26.1",
                "Halcyon-L 7B 55.0 30.2 42.6")
    assert by_label(text) == {"Halcyon-S": 1_300_000_000, "Halcyon-L": 7_000_000_000}
    text = page("Method #Params Top-1 Acc.", "NetA 5.3M 77.3")
    assert values(text) == [5_300_000]


# --- sideways rows --------------------------------------------------------------------------


def test_sideways_row_with_the_unit_in_the_caption() -> None:
    text = page(
        "Table 5: Sizes of the encoders (in millions) and their scores.",
        "Encoder Enc-A Enc-B Enc-C Enc-D Enc-E",
        "Number of parameters 133 133 134 138 144",
        "Score 71.2 72.0 72.4 73.9 74.1",
    )
    assert by_label(text) == {
        "Enc-A": 133_000_000, "Enc-B": 133_000_000, "Enc-C": 134_000_000,
        "Enc-D": 138_000_000, "Enc-E": 144_000_000,
    }
    assert all(c.header == "Encoder Enc-A Enc-B Enc-C Enc-D Enc-E" for c in cells(text))


def test_sideways_column_names_come_from_the_column_label_line() -> None:
    text = page(
        "Table 1: Base models compared.",
        "Kestrel-8B Orca-X-13B Tern-70B",
        "Type Dense Dense MoE",
        "# Total Params 8B 13B 70B",
        "# Activated Params 8B 13B 12B",
        "MMLU 61.0 66.2 75.3",
    )
    found = cells(text)
    assert [(c.label, c.value, c.kind) for c in found] == [
        ("Kestrel-8B", 8_000_000_000, "total"),
        ("Orca-X-13B", 13_000_000_000, "total"),
        ("Tern-70B", 70_000_000_000, "total"),
        ("Kestrel-8B", 8_000_000_000, "active"),
        ("Orca-X-13B", 13_000_000_000, "active"),
        ("Tern-70B", 12_000_000_000, "active"),
    ]


def test_sideways_rows_with_the_unit_in_the_row_and_placeholders() -> None:
    text = page("Model Halcyon-S Halcyon-M Halcyon-L", "# Params (B) 1.3 – 7")
    assert by_label(text) == {"Halcyon-S": 1_300_000_000, "Halcyon-L": 7_000_000_000}
    text = page("Model Halcyon-S Halcyon-M Halcyon-L", "# Params 1.3B 2.7B 7B",
                "# Non-Emb. Params 1.1B 2.4B 6.5B")
    kinds = {(c.label, c.kind): c.value for c in cells(text)}
    assert kinds[("Halcyon-M", "non_embedding")] == 2_400_000_000
    assert kinds[("Halcyon-M", "total")] == 2_700_000_000


def test_sideways_column_names_split_in_their_header_cells() -> None:
    text = page("Model Kestrel-7B -Chat Tern (ours) Orca-X", "# Params 7B 13B 70B")
    assert [(c.label, c.own_marker) for c in cells(text)] == [
        ("Kestrel-7B-Chat", False), ("Tern", True), ("Orca-X", False)
    ]


def test_sideways_names_skip_row_symbols_and_shared_properties() -> None:
    text = page("size • NetA-50 • NetB-T ◦ NetC-T", "Position RoPE RoPE RoPE",
                "# params. 25.6 × 106 28.6 × 106 28.3 × 106")
    assert by_label(text) == {"NetA-50": 25_600_000, "NetB-T": 28_600_000, "NetC-T": 28_300_000}


def test_sideways_row_without_a_names_line_has_no_labels() -> None:
    text = page("Halcyon: Small Open Models for a Practical Budget", "Parameters 2.6B 9B 27B",
                "Layers 26 42 46")
    assert [(c.label, c.value) for c in cells(text)] == [
        ("", 2_600_000_000), ("", 9_000_000_000), ("", 27_000_000_000)
    ]


# --- units ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "row", "value"),
    [
        ("Model Params (M) Top-1", "NetA 22.1 78.0", 22_100_000),
        ("Model #Param. (B) MMLU", "Halcyon 6.7 55.1", 6_700_000_000),
        ("Model Parameters (in millions) Accuracy", "NetA 3.4 71.2", 3_400_000),
        ("Model Params [M] Top-1", "NetA 22.1 78.0", 22_100_000),
        ("Model Params (×10^6) Top-1", "NetA 22.1 78.0", 22_100_000),
        ("Model Million Parameters Top-1", "NetA 22.1 78.0", 22_100_000),
        ("Model Size (B) MMLU", "Halcyon 6.7 55.1", 6_700_000_000),
        ("Model Param(M) FLOPs(G) Top-1(%)", "NetA 22.1 4.5 78.0", 22_100_000),
    ],
)
def test_units_in_the_header(header: str, row: str, value: int) -> None:
    assert values(page(header, row)) == [value]


def test_a_unit_on_the_other_line_of_a_two_line_header() -> None:
    below = page("Model Params FLOPs Top-1", "(M) (G) (%)", "NetA 22.1 4.5 78.0",
                 "NetB 86.4 15.2 81.2")
    above = page("Layer Million Million", "Mult-Adds Parameters", "Conv 462 2.36",
                 "Separable Conv 52.3 0.27")
    assert values(below) == [22_100_000, 86_400_000]
    assert values(above) == [2_360_000, 270_000]


def test_a_count_with_its_own_scale_under_a_unit_header_keeps_it() -> None:
    assert values(page("Model Params (M) Top-1", "NetA 1.2B 80.0")) == [1_200_000_000]


@pytest.mark.parametrize("cell", ["25.0×106", "25.0 × 106", "25.0×10^6", "2.5×107"])
def test_flattened_superscripts_read_as_powers_of_ten(cell: str) -> None:
    text = page("Model #Params Top-1", f"NetA {cell} 76.1")
    match = COUNT_TEXT_RE.search(f"a network with {cell} parameters")
    assert match is not None and count_of_match(match) == (25_000_000, "COUNT_SCALED")
    assert values(text) == [25_000_000]  # tables read it as prose does


def test_a_flattened_superscript_billion() -> None:
    assert values(page("Model #Params MMLU", "Halcyon 1.2 × 109 40.0")) == [1_200_000_000]


# --- alignment -----------------------------------------------------------------------------


def test_placeholders_keep_the_columns_aligned() -> None:
    text = page(
        "Model Params (M) FLOPs (G) Top-1",
        "NetA - 4.5 78.0",
        "NetB 86.4 – 81.2",
        "NetC 30.0 N/A 80.0",
        "NetD — 7.7 —",
    )
    assert by_label(text) == {"NetB": 86_400_000, "NetC": 30_000_000}


def test_parameters_and_flops_columns_are_told_apart() -> None:
    text = page("Model Top-1 #Params #FLOPs", "NetA-B0 77.3% 5.3M 0.39B",
                "NetA-B1 79.1% 7.8M 0.70B")
    found = cells(text)
    assert [c.value for c in found] == [5_300_000, 7_800_000]
    assert not any(c.unambiguous for c in found)  # a FLOPs column holds counts too


def test_only_count_under_the_only_parameters_column_is_unambiguous() -> None:
    found = cells(page("Model #Params Top-1", "NetA 12.5M 76.1", "NetB 48.2M 80.3"))
    assert [c.unambiguous for c in found] == [True, True]


def test_multi_word_row_names_and_two_name_columns() -> None:
    text = page(
        "Backbone Method mIoU (ss) mIoU (ms) Param (M) FLOPs (G)",
        "NetA-B SegHead [12] 48.1 49.7 121 1188",
        "NetA-L SegHead [12] 50.2 51.0 234 2613",
        "NetC-XL AxialHead 80.6 81.1 173 2446",
    )
    assert by_label(text) == {
        "NetA-B SegHead": 121_000_000, "NetA-L SegHead": 234_000_000,
        "NetC-XL AxialHead": 173_000_000,
    }


def test_a_citation_after_the_cells_is_not_a_column() -> None:
    text = page("method architecture #params (M) accuracy (%)",
                "Exemplar [17] R50w3× 211 46.0 [38]", "Jigsaw [45] R50w2× 94 44.6 [38]")
    assert values(text) == [211_000_000, 94_000_000]


def test_two_rows_on_one_line_are_both_read() -> None:
    text = page("Model Params MMLU GSM8K HumanEval", "Kestrel 7B 54.1 30.2 20.1 13B 60.3 40.5 27.7",
                "Tern 7B 50.0 28.1 18.0", "Tern 13B 55.2 31.0 19.9")
    assert by_label(text) == {"Kestrel": 13_000_000_000, "Tern": 13_000_000_000}
    assert values(text) == [7_000_000_000, 13_000_000_000, 7_000_000_000, 13_000_000_000]


def test_a_long_row_with_text_cells_is_one_row_not_several() -> None:
    text = page("Variant Params (M) MACs (G) Top-1 (%)", "Baseline 11.9 1.8 77.2",
                "Pooling size 3 → 5 11.9 1.8 77.4", "Attention in stage 4 14.0 1.9 78.3")
    assert values(text) == [11_900_000, 11_900_000, 14_000_000]


def test_rows_wrapped_over_two_lines_under_a_header_of_multi_word_labels() -> None:
    text = page(
        "Model Input Resolution FLOPs (G) Params (M) Train Steps (K) Batch Size Learning Rate "
        "Mixer Type FID (no guidance)",
        "Wren-S/16 128 × 128 0.52 28 300 512 2 × 10−4",
        "gated-MLP 98.20",
        "Wren-B/16 128 × 128 2.10 112 300 512 2 × 10−4",
        "gated-MLP 61.35",
        "Wren-L/8 256 × 256 40.75 391 300 512 1 × 10−4",
        "soft-mix 30.04",
        "Table 7. Configurations of the Wren models we train.",
    )
    found = cells(text)
    assert {c.label: c.value for c in found} == {
        "Wren-S/16": 28_000_000, "Wren-B/16": 112_000_000, "Wren-L/8": 391_000_000,
    }
    assert found[0].row == "Wren-S/16 128 × 128 0.52 28 300 512 2 × 10−4 gated-MLP 98.20"


def test_counting_from_the_left_when_every_label_before_the_column_is_whole() -> None:
    rows = ["Lark-S 224 × 224 4.1 22 300 79.8", "Lark-B 224 × 224 15.4 86 300 82.1",
            "Lark-L 384 × 384 190.7 304 300 85.0"]
    text = page("Model Image Resolution FLOPs (G) Params (M) Train Epochs Top-1 Acc", *rows)
    assert values(text) == [22_000_000, 86_000_000, 304_000_000]
    # "Total FLOPs (G)" may be one column or two: the cell under "Params" is not known
    assert values(page("Model Total FLOPs (G) Params (M) Train Epochs Top-1 Acc",
                       "Lark-S 4.1 22 300 79.8", "Lark-B 15.4 86 300 82.1")) == []


def test_shorter_rows_between_full_rows_are_not_wrapped_when_the_header_is_full() -> None:
    text = page("Model Params Top-1", "NetA 25M 76.1", "+ Booster 78.3", "NetB 86M 81.8",
                "+ Booster 82.9")
    found = cells(text)
    assert [(c.label, c.value, c.row) for c in found] == [
        ("NetA", 25_000_000, "NetA 25M 76.1"), ("NetB", 86_000_000, "NetB 86M 81.8"),
    ]


VERTICAL_HEADER = (
    "Table 5. Widths and depths of the encoder family.",
    "Variant", "Layers", "Hidden", "Heads", "Mio.", "Param", "TFLOPs",
    "128px 256px",
    "xs/8 6 192 3 4.2 0.5 1.9",
    "sm/8 12 384 6 21 2.4 9.8",
    "md/16 12 768 12 86 9.1 36.2",
    "lg/16 24 1024 16 302 31.4 125.5",
    "The encoders share one tokenizer and differ only in the sizes above, which we keep",
)


@pytest.mark.parametrize(
    ("unit", "label", "header"),
    [("Mio.", "Param", "Variant Layers Hidden Heads Mio. Param TFLOPs"),
     ("Params", "(M)", "Variant Layers Hidden Heads Params (M) TFLOPs")],
)
def test_a_header_written_one_label_per_line(unit: str, label: str, header: str) -> None:
    # each line is one label (a unit standing alone belongs to the parameters label), so
    # the column is counted from the left, though the last label covers two sub-columns
    # ("128px 256px") and counting from the right misses it
    lines = [{"Mio.": unit, "Param": label}.get(line, line) for line in VERTICAL_HEADER]
    found = cells(page(*lines))
    assert {c.label: c.value for c in found} == {
        "xs/8": 4_200_000, "sm/8": 21_000_000, "md/16": 86_000_000, "lg/16": 302_000_000,
    }
    assert {c.header for c in found} == {header}


def test_a_header_one_label_per_line_without_a_names_label_is_not_counted_from_the_left(
) -> None:
    lines = [line for line in VERTICAL_HEADER if line != "Variant"]
    assert values(page(*lines)) == []  # the names' column may or may not have a label


@pytest.mark.parametrize("label", ["Mio. Param", "Mil. Params", "Mn Params", "Million Params"])
def test_a_unit_word_before_the_parameters_label(label: str) -> None:
    text = page(f"Model {label} Top-1", "NetA 12.5 76.1", "NetB 48.2 80.3")
    assert values(text) == [12_500_000, 48_200_000]


SPANNED = (
    "Blocks Channels With EMA Params (M) Linear probe Fine-tuned with 10% 50% 100%",
    "18",
    "0.5×",
    "No 11 61.2 66.0 70.3 72.8",
    "Yes 12 62.9 67.4 71.1 73.5",
    "1×",
    "No 45 65.0 70.2 74.4 76.1",
    "101 2× Yes 170 70.8 75.3 78.9 80.0",
    "where each encoder is trained for the same number of epochs on the unlabeled set",
)


def test_rows_under_group_cells_on_lines_of_their_own_align_with_the_full_row() -> None:
    # "18", "0.5×", "1×" span the rows below them; only the last row has all its cells
    assert values(page(*SPANNED)) == [11_000_000, 12_000_000, 45_000_000, 170_000_000]


def test_without_group_cells_on_lines_of_their_own_short_rows_keep_their_names() -> None:
    text = page("Model Params (M) Top-1 Top-5", "Baselines", "NetA 11 61.2 80.1",
                "NetB 45 65.0 83.2", "Ours large 170 70.8 88.0")
    assert by_label(text) == {"NetA": 11_000_000, "NetB": 45_000_000, "Ours large": 170_000_000}


def test_accuracies_beside_spanned_rows_never_become_counts() -> None:
    # no unit for bare numbers: no column of counts at all
    lines = [SPANNED[0].replace("Params (M)", "Params"), *SPANNED[1:]]
    assert values(page(*lines)) == []


def test_a_symbol_the_caption_defines_as_the_parameter_count() -> None:
    text = page(
        "Table 1: Comparison with baselines. #P denotes the number of model parameters.",
        "System Base #P top-1 top-5",
        "Kestrel kestrel-large 770M 80.4 84.8",
        "Tern custom 75M 80.7 90.3",
    )
    assert values(text) == [770_000_000, 75_000_000]


# --- sizes after row names --------------------------------------------------------------


def test_sizes_in_brackets_when_the_caption_says_so() -> None:
    rows = ("Model ARC HellaSwag", "Halcyon (7B) 52.1 76.1", "Ours (1.3B) 48.0 70.2")
    text = page("Table 6: Zero-shot accuracy. Model sizes are given in parentheses.", *rows)
    found = cells(text)
    assert [(c.label, c.value, c.own_marker) for c in found] == [
        ("Halcyon", 7_000_000_000, False), ("Ours", 1_300_000_000, True)
    ]
    assert values(page("Table 6: Zero-shot accuracy (std in parentheses).", *rows)) == []


def test_sizes_in_brackets_under_a_model_size_header() -> None:
    text = page("Model (#Params) ARC HellaSwag", "Halcyon (7B) 52.1 76.1", "Tern (13B) 55.0 79.3")
    assert by_label(text) == {"Halcyon": 7_000_000_000, "Tern": 13_000_000_000}


# --- kinds ---------------------------------------------------------------------------------


def test_total_and_active_parameter_columns() -> None:
    text = page("Model Total Params Active Params MMLU", "Kestrel-MoE 47B 13B 70.1",
                "Tern-MoE 16B 2.8B 51.0")
    assert [(c.label, c.kind, c.value) for c in cells(text)] == [
        ("Kestrel-MoE", "total", 47_000_000_000), ("Kestrel-MoE", "active", 13_000_000_000),
        ("Tern-MoE", "total", 16_000_000_000), ("Tern-MoE", "active", 2_800_000_000),
    ]


def test_non_embedding_parameter_column() -> None:
    text = page("Model Non-Embedding Params (M) Loss", "Tern-S 85 3.10", "Tern-M 302 2.80")
    assert [(c.kind, c.value) for c in cells(text)] == [
        ("non_embedding", 85_000_000), ("non_embedding", 302_000_000)
    ]


def test_extra_parameters_are_not_a_models_size() -> None:
    assert values(page("Method Extra Params Top-1", "Adapter 0.3M 87.1")) == []


# --- own markers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("caption", "row", "own"),
    [
        ("Table 1: Results.", "Halcyon (ours) 7B 55.0", True),
        ("Table 1: Results.", "Halcyon [ours] 7B 55.0", True),
        ("Table 1: Results.", "Ours 7B 55.0", True),
        ("Table 1: Results.", "Our Halcyon 7B 55.0", True),
        ("Table 1: Results. † denotes our models.", "Halcyon† 7B 55.0", True),
        ("Table 1: Results. † denotes results from the original paper.", "Halcyon† 7B 55.0", False),
        ("Table 1: Results.", "Tern [12] 7B 55.0", False),
    ],
)
def test_rows_marked_as_the_papers_own(caption: str, row: str, own: bool) -> None:
    found = cells(page(caption, "Model Params MMLU", row))
    assert [(c.label, c.own_marker) for c in found] == [(found[0].label, own)]
    assert found[0].label in ("Halcyon", "Ours", "Tern", "Our Halcyon")


# --- numbers that are not parameter counts -----------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        page("Model Params (M) FLOPs (G) Throughput Top-1", "NetA - 4.5 1204 78.0"),
        page("Model Tokens Steps Top-1", "NetA 300B 1.2M 78.0"),
        page("Method Pre-training data Top-1", "ViT-L JFT-300M 87.8", "ViT-H IG-1B 88.1"),
        page("Method Data Params Top-1", "ViT-L WIKI-", "100M 87.8 12.0"),
        page("Model Context Top-1", "Halcyon 128K 54.0"),
        page("Hyper parameter Halcyon-S Halcyon-L", "Learning rate 3e-4 1e-4", "Batch 4M 4M"),
        page("Model Year Venue Top-1", "NetA 2021 CVPR 78.0"),
        page("arXiv:2401.90001v2 [cs.CL] 12 Feb 2024", "Model Params (M) Top-1"),
        page("50 100 150 200 250", "Number of parameters (million)", "20", "30", "40",
             "Figure 3: Accuracy against model size."),
        page("Model Dim. Size Sem. Syn.", "VecA 300 1.6B 80.8 61.5"),
        page("Table 3: Word similarity.", "Model Size WS353 MC", "VecA 6B 35.3 35.1",
             "VecB 42B 75.9 83.6"),
        page("We report the number of parameters in Table 3, for which the", "17"),
        page("with 5.9 billion parameters, three different batch sizes, and",
             "size of 1, and 64 A100 GPUs."),
    ],
)
def test_numbers_that_are_not_parameter_counts(text: str) -> None:
    assert values(text) == []


def test_a_dataset_name_split_over_a_line_break_is_not_a_count() -> None:
    text = page("Model #Params Pre-training Top-1", "ViT-L 304M JFT-", "300M 87.8")
    assert values(text) == [304_000_000]


def test_a_size_column_counts_parameters_when_the_table_says_so() -> None:
    text = page("Table 2: Model sizes and accuracy.", "Name Size Acc", "Halcyon 7B 55.0")
    assert values(text) == [7_000_000_000]
    stacked = page("Model Model Window", "Size Name Length ARC", "7B Halcyon 4k 55.0")
    assert values(stacked) == [7_000_000_000]
    unnamed = page("Model size Layers Hidden size Batch size", "1.3B 24 2048 512",
                   "6.7B 32 4096 1024")
    assert values(unnamed) == [1_300_000_000, 6_700_000_000]


def test_pages_without_tables_give_nothing() -> None:
    assert cells("") == []
    assert cells("We train a 7B model with 1.4T tokens.\nIt has 32 layers.") == []


# --- shortcuts: each gives what the long way gives --------------------------------------


def test_a_header_without_a_parameters_label_is_skipped_before_its_rows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_rows(*args: object) -> list[object]:
        raise AssertionError("the rows were read")

    monkeypatch.setattr(tables, "_rows", no_rows)
    text = page("Stage Output size Kernel", "conv1 112 7", "conv2 56 3", "conv3 28 3")
    assert values(text) == []  # no "param" on the page: no caption can define a symbol
    vocab = tables._vocab(LEXICON)
    labels = tables._labels("Stage Output size Kernel", vocab)
    assert tables._no_params_label(tuple(labels), lambda: False)
    assert not tables._no_params_label(tuple(labels), lambda: True)
    assert not tables._no_params_label(tuple(tables._labels("Size", vocab)), lambda: False)


def test_a_page_naming_parameters_outside_captions_defines_no_symbol(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_rows(*args: object) -> list[object]:
        raise AssertionError("the rows were read")

    monkeypatch.setattr(tables, "_rows", no_rows)
    text = page("We count the parameters of each stage.", "",
                "Stage Output size Kernel", "conv1 112 7", "conv2 56 3", "conv3 28 3")
    assert values(text) == []  # "param" on the page, but in no caption's lines


def test_a_symbol_defined_over_two_caption_lines_is_read() -> None:
    text = page(
        "Table 2: Backbones. #W denotes the number",
        "of model parameters.",
        "Model Output size #W Top-1",
        "Plover-S 224 12M 76.1",
        "Plover-L 224 48M 80.3",
    )
    assert by_label(text) == {"Plover-S": 12_000_000, "Plover-L": 48_000_000}
    lines = tables._Page(text, tables._vocab(LEXICON))
    assert lines.may_define_symbols
    assert not tables._Page(page("Model #W", "the number of model parameters"),
                            tables._vocab(LEXICON)).may_define_symbols  # no caption line


def test_a_page_with_no_line_to_open_a_table_is_not_split_into_lines(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_page(*args: object) -> None:
        raise AssertionError("the page was read line by line")

    monkeypatch.setattr(tables, "_Page", no_page)
    assert cells("We train a 7B model on 1.4T tokens.\nNet-A 12.5 76.1\nNet-B 48.2 80.3") == []
    with pytest.raises(AssertionError):
        cells(page("Model Params (M)", "Net-A 12.5", "Net-B 48.2"))


def test_lines_never_rows_are_proved_without_reading_them(monkeypatch: pytest.MonkeyPatch) -> None:
    vocab = tables._vocab(LEXICON)
    prose = "We train the model with 7B parameters, as in the paper."
    header = "Model Params (M) of the 7B 13B 70B"
    lines = tables._Page(page(prose, header, "Net-A 12.5 76.1"), vocab)
    assert lines.never_a_row(0) and lines[0].role == "prose"
    assert not lines.never_a_row(1) and lines[1].role == "data"
    assert not lines.never_a_row(2)
    text = page("Model #Params Top-1", "NetA 12.5M 76.1", "Table 1: Nets.", "", prose)
    read = tables._Page.__getitem__

    def reads(self: tables._Page, index: int) -> object:
        assert self.texts[index] != prose, "the prose line was read"
        return read(self, index)

    monkeypatch.setattr(tables._Page, "__getitem__", reads)
    assert values(text) == [12_500_000]


def test_lines_proved_never_rows_are_never_data_or_text() -> None:
    vocab = tables._vocab(LEXICON)
    pieces = ["the", "we", "a", "(and", "x", "7", "1.5", "7B", "1.2 × 109", "5 million,", "±1.4",
              "224×224-7", "-3", "<5", "Table", "3:", "Net", "of", "-", "n/a", "is.", "Foo."]
    draw = random.Random(5)
    for _ in range(2000):
        line = " ".join(draw.choice(pieces) for _ in range(draw.randint(0, 9)))
        lines = tables._Page(line, vocab)
        if lines.never_a_row(0):
            assert tables._Page(line, vocab)[0].role not in ("data", "text"), line


def test_roles_of_sentences_are_read_off_their_text_without_tokens() -> None:
    vocab = tables._vocab(LEXICON)
    text = page(
        "Table 3: Results of the models on the benchmark.",
        "Figure 2: Loss of the model over the steps.",
        "We train the model with 7B parameters, as in the paper.",
        "Model Params (M) Top-1",
        "Net-A 12.5 76.1",
        "",
    )
    lines = tables._Page(text, vocab)
    roles = [lines.role(index) for index in range(len(lines))]
    assert roles == ["caption", "figure", "prose", "text", "data", "blank"]
    assert sorted(lines._read) == [3, 4, 5]  # the three sentences' tokens were not read
    assert lines.never_a_row(0) and lines.clean(4) == "Net-A 12.5 76.1"
    assert roles == [tables._Page(text, vocab)[index].role for index in range(len(lines))]


def test_header_words_inside_brackets_join_the_label_they_open() -> None:
    vocab = tables._vocab(LEXICON)

    def texts(header: str) -> list[str]:
        return [label.text for label in tables._labels(header, vocab)]

    assert texts("Net [Ours (a) b] #Params (M) Top-1") == ["Net [Ours (a) b]", "#Params (M)",
                                                           "Top-1"]
    assert texts("A (b (c) d) e) f ( g") == ["A (b (c) d)", "e)", "f ( g"]
    assert tables._Page("THE NETS WITH 7B", vocab).never_a_row(0)  # words lower-cased
    assert not tables._Page("THE NETS OF 7B", vocab).never_a_row(0)  # "of" is not counted


def test_short_numbers_are_read_as_bare_numbers_without_classifying() -> None:
    vocab = tables._vocab(LEXICON)
    assert vocab.short_numbers
    line = "85 22.1 12345 123456 1,024 7.5† 0.5 .5 85] 3.14159 99999.5 ٣"
    slow = tuple(tables._token(m.start(), m.group(0), vocab)
                 for m in tables._TOKEN.finditer(line))
    assert tables._tokens(0, line, False, vocab) == slow
    assert [t.kind for t in slow][:3] == ["num", "num", "num"]


def test_a_header_whose_symbol_the_caption_defines_is_not_skipped() -> None:
    text = page(
        "Table 2: Backbones. #W denotes the number of model parameters.",
        "Model Output size #W Top-1",
        "Plover-S 224 12M 76.1",
        "Plover-L 224 48M 80.3",
    )
    assert by_label(text) == {"Plover-S": 12_000_000, "Plover-L": 48_000_000}


def test_words_opening_with_a_plain_letter_are_read_as_text_without_classifying() -> None:
    vocab = tables._vocab(LEXICON)
    assert not {"n", "N"} & vocab.plain  # "n/a", "NA" are placeholders
    assert {"a", "Z", "x"} <= vocab.plain
    line = "Net-7B 7B n/a NA Na x10 θ ✓ [12] 1.2 × 109 ±1.4 † Ours† 78.3 ±1.4 224 × 224 (7B)"
    slow = tuple(tables._token(m.start(), m.group(0), vocab)
                 for m in tables._TOKEN.finditer(line))
    assert tables._tokens(0, line, False, vocab) == slow
    assert [t.kind for t in slow] == [
        "text", "count", "hold", "hold", "hold", "text", "text", "hold", "cite", "count",
        "other", "text", "text", "other", "other", "text",
    ]


def test_the_token_pattern_tries_number_alternatives_only_before_a_number() -> None:
    plain = tables._TOKEN.pattern.replace("(?=[~≈∼\\d])(?:", "", 1).replace(")|\\S+", "|\\S+")
    assert plain != tables._TOKEN.pattern
    reference = re.compile(plain)
    line = "Abc 1.2 × 109 ~7 ×10 5 million 78.3 ±1.4 224 × 224 ≈3B x2 ∼5 1,024 a1 ٣ 12,3.4 ±"
    spans = [m.span() for m in tables._TOKEN.finditer(line)]
    assert spans == [m.span() for m in reference.finditer(line)]
    assert [line[start:end] for start, end in spans] == [
        "Abc", "1.2 × 109", "~7 ×10 5", "million", "78.3 ±1.4", "224 × 224", "≈3B", "x2", "∼5",
        "1,024", "a1", "٣", "12,3.4", "±",
    ]


def test_sizes_in_brackets_found_over_a_page_are_those_of_its_lines() -> None:
    pieces = ["(7B)", "[1.5 M]", "( 13B )", "(", "7B)", "[", "\n", "\n", " ", "x", "(2\u2009T)"]
    draw = random.Random(3)
    for _ in range(300):
        text = "".join(draw.choice(pieces) for _ in range(draw.randint(0, 30)))
        lines = text.split("\n")
        starts = [sum(len(line) + 1 for line in lines[:i]) for i in range(len(lines))]
        found = {bisect.bisect_right(starts, m.start()) - 1
                 for m in tables._SIZE_IN_BRACKETS.finditer(text)}
        assert found == {i for i, line in enumerate(lines) if tables._SIZE_IN_BRACKETS.search(line)}


@pytest.mark.parametrize(
    ("text", "unit"),
    [("Params (M)", 10**6), ("in millions", 10**6), ("×10^9", 10**9), ("Mio. Param", 10**6),
     ("Top-1", None), ("Params", None)],
)
def test_a_unit_needs_a_bracket_a_space_or_a_times_sign(text: str, unit: int | None) -> None:
    assert tables._unit(text, tables._vocab(LEXICON)) == unit


def every_line_read(text: str) -> list[TableCell]:
    """`find_table_cells` without its shortcuts: every line searched, in order."""
    vocab = tables._vocab(LEXICON)
    lines = tables._Page(text, vocab)
    found: dict[int, TableCell] = {}
    for index, line in enumerate(lines.texts):
        opens = (vocab.params.search(line) or vocab.size.search(line)
                 or tables._SIZE_IN_BRACKETS.search(line))
        here = tables._cells_of(lines, lines[index], vocab) if (
            opens and not lines.never_a_row(index)) else []
        if vocab.symbol.search(line):
            here += tables._symbol_cells(lines, index, vocab)
        for cell in here:
            found.setdefault(cell.start, cell)
    return sorted(found.values(), key=lambda c: c.start)


def test_the_lines_judged_before_the_page_is_split_are_those_that_give_cells() -> None:
    lines = ["Model Params (M) Top-1", "Net-A 12.5 76.1", "Net-B (7B) 48.2 80.3",
             "Hyperparams (13B) 5",
             "Table 2: Sizes. Model sizes are given in parentheses.", "Model ARC HellaSwag",
             "Halcyon (7B) 52.1 76.1", "We count the parameters of the model in the paper.",
             "# Params 7B 13B 70B", "Kestrel-7B Kestrel-13B Kestrel-70B", "Size (B) 7 13",
             "#W denotes the number of model parameters.", "Model #W Top-1", "Plover 12M 76.1",
             "PARAMS 1.2M", "", "Figure 1: Loss.", "the size of the data is 5", "Model Size",
             "Tern 1.3B 51.0"]
    draw = random.Random(17)
    given = 0
    for _ in range(300):
        text = page(*(draw.choice(lines) for _ in range(draw.randint(1, 9))))
        found = find_table_cells(text, LEXICON)
        assert found == every_line_read(text), text
        given += bool(found)
    assert given > 100  # pages with cells among them

def test_rows_of_sizes_in_brackets_are_scanned_for_only_where_a_caption_may_ask(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    vocab = tables._vocab(LEXICON)
    rows = ("Model ARC HellaSwag", "Halcyon (7B) 52.1 76.1", "Ours (1.3B) 48.0 70.2")
    said = page("Table 6: Zero-shot accuracy. Model sizes are given in parentheses.", *rows)
    unsaid = page("Table 6: Zero-shot accuracy.", *rows)
    assert tables._bracket_lines(said, ascii_fold(said), vocab) == {
        said.index(row) for row in rows[1:]}  # a caption may say the rows give sizes
    assert tables._bracket_lines(unsaid, ascii_fold(unsaid), vocab) is None

    class NoScan:
        def finditer(self, text: str) -> list[re.Match[str]]:
            raise AssertionError("the page was scanned for sizes in brackets")

    monkeypatch.setattr(tables, "_SIZE_IN_BRACKETS_SCAN", NoScan())
    assert cells(unsaid) == []
    header = page("Model (#Params) ARC HellaSwag", "Halcyon (7B) 52.1 76.1", "Tern (13B) 55.0 79.3")
    assert by_label(header) == {"Halcyon": 7_000_000_000, "Tern": 13_000_000_000}
    with pytest.raises(AssertionError):
        cells(said)


def test_a_page_naming_parameters_in_sentences_only_is_not_split_into_lines(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_page(*args: object) -> None:
        raise AssertionError("the page was read line by line")

    monkeypatch.setattr(tables, "_Page", no_page)
    prose = "We count the parameters of the model, and the size of the data, in the paper."
    assert cells(page(prose, "Net-A 12.5 76.1", "Net-B 48.2 80.3")) == []
    with pytest.raises(AssertionError):
        cells(page(prose, "Model Params (M)", "Net-A 12.5", "Net-B 48.2"))


def test_words_classified_once_give_the_tokens_classifying_gives(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    vocab = tables._vocab(LEXICON)
    monkeypatch.setattr(tables, "_KNOWN_TOKENS", 3)
    vocab.known_tokens.clear()
    line = "Net 7B 1.2M n/a [12] 7B 78.3±1.4 -3 1,024,000 1.2M 7B ✓"
    slow = tuple(tables._token(m.start() + 5, m.group(0), vocab)
                 for m in tables._TOKEN.finditer(line))
    for _ in range(3):  # the words known, then forgotten past the limit, alike
        assert tables._tokens(5, line, False, vocab) == slow
        assert len(vocab.known_tokens) <= 3
    vocab.known_tokens.clear()


def test_a_sentence_break_is_looked_for_only_in_lines_holding_one() -> None:
    vocab = tables._vocab(LEXICON)
    pieces = ["the", "model.", "Model", "works.", "The", "7B", "12.5", "Avg.", "data.", "\u2009",
              "Foo.", "bars.", "Step-Audio", "denotes", "x", "(a)"]
    draw = random.Random(23)
    for _ in range(2000):
        line = " ".join(draw.choice(pieces) for _ in range(draw.randint(0, 10)))
        texts = [t.text for t in tables._tokens(0, line, False, vocab)]
        numeric = sum(t.kind in ("count", "num", "other") for t in
                      tables._tokens(0, line, False, vocab))
        assert tables._is_prose(texts, numeric, vocab, line) == tables._is_prose(
            texts, numeric, vocab), line
    line = "Net-A 12.5 76.1 vocoder. Kestrel 5 6"  # prose by its sentence break alone
    texts = [t.text for t in tables._tokens(0, line, False, vocab)]
    assert tables._is_prose(texts, 5, vocab, line) and not tables._is_prose(texts[:3], 2, vocab)


def test_label_patterns_are_searched_only_where_they_may_match() -> None:
    vocab = tables._vocab(LEXICON)
    patterns = [vocab.compound, vocab.params, vocab.size, vocab.other_counts, vocab.symbol]
    pieces = ["Hidden size", "#Params", "PARAM", "Batch", "FLOPs", "Top-1 Acc.", "w/ EMA", "ſize",
              "Number of layers", "θ", "denotes the number of parameters", "of", "12.3", "Model"]
    draw = random.Random(29)
    for _ in range(500):
        text = " ".join(draw.choice(pieces) for _ in range(draw.randint(0, 8)))
        for pattern in patterns:
            assert tables._may_match(ascii_fold(text), pattern, vocab) or not pattern.search(text)
    assert not tables._may_match("model top-1 acc.", vocab.other_counts, vocab)
    assert tables._may_match("model flops top-1", vocab.other_counts, vocab)


def test_rows_holding_no_count_nor_number_end_a_table_before_its_caption_is_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shares = page("Table 3: Shares of the compute.", "Model Params Top-1",
                  "Conv 94.9% 74.6%", "Conv-DW 3.1% 1.1%")
    brackets = page("Model (#Params) ARC HellaSwag", "Halcyon (7B) 52.1% 76.1%",
                    "Tern (13B) 55.0% 79.3%")
    numbers = page("Table 3: Sizes.", "Model Params (M) Top-1", "Net-A 12.5 76.1%",
                   "Net-B 48.2 80.3%")
    assert values(shares) == []
    read = tables._caption

    def no_caption(*args: object) -> str:
        raise AssertionError("the caption was read")

    monkeypatch.setattr(tables, "_caption", no_caption)
    assert values(shares) == []
    with pytest.raises(AssertionError):  # sizes in brackets after the names: read on
        values(brackets)
    with pytest.raises(AssertionError):  # bare numbers, under a unit the caption may give
        values(numbers)
    monkeypatch.setattr(tables, "_caption", read)
    assert values(brackets) == [7_000_000_000, 13_000_000_000]
    assert values(numbers) == [12_500_000, 48_200_000]
