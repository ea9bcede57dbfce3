"""Mapping other models' label names onto ours."""

from __future__ import annotations

import pytest

from earful_nlp.errors import ModelLoadError
from earful_nlp.labels import map_model_labels


def test_names_match_case_insensitively():
    assert map_model_labels("sentiment", {0: "Negative", 1: "Neutral", 2: "POSITIVE"}) == {
        0: "negative",
        1: "neutral",
        2: "positive",
    }


def test_configured_map_wins_and_may_merge_classes():
    stars = {0: "1 star", 1: "2 stars", 2: "3 stars", 3: "4 stars", 4: "5 stars"}
    mapping = map_model_labels(
        "sentiment",
        stars,
        {
            "1 star": "negative",
            "2 stars": "negative",
            "3 stars": "neutral",
            "4 stars": "positive",
            "5 stars": "positive",
        },
    )
    assert list(mapping.values()) == ["negative", "negative", "neutral", "positive", "positive"]


def test_unmappable_labels_name_the_setting():
    with pytest.raises(ModelLoadError, match=r"LABEL_0.*nlp.label_map.sentiment"):
        map_model_labels("sentiment", {0: "LABEL_0", 1: "LABEL_1"})


def test_a_complaint_model_must_predict_complaints():
    with pytest.raises(ModelLoadError, match="complaint"):
        map_model_labels("complaint", {0: "not_complaint", 1: "other"}, {"other": "not_complaint"})
