from cog import BasePredictor, current_scope


class Predictor(BasePredictor):
    def predict(self, words: str = "a b c", bad: str = "") -> str:
        scope = current_scope()
        scope.metrics["input_chars"] = len(words)
        scope.metrics["timing.preprocess"] = 0.5
        self.record_metric("timing.inference", 1.25)
        for word in words.split():
            scope.record_metric("tokens", 1, mode="incr")
            scope.metrics.record("steps", word, mode="append")
        scope.metrics["temporary"] = True
        del scope.metrics["temporary"]
        scope.metrics["gone"] = "x"
        scope.metrics["gone"] = None
        if bad == "name":
            scope.metrics["timing..x"] = 1
        if bad == "type":
            scope.metrics["input_chars"] = "many"
        if bad == "mode":
            scope.record_metric("tokens", 1, mode="sum")
        if bad == "value":
            scope.metrics["obj"] = object()
        return "ok"
