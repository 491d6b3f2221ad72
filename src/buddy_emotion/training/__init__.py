"""Model training (needs the ``keras`` extra). Not imported by inference code."""
