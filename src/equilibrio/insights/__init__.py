"""Judgements over the measures: the draft checker, recommendations, the balance score."""
