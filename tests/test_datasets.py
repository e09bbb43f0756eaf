"""Real datasets in: COCO files (real COCO 2017 annotations), YOLO datasets (a small generated
one), id columns and --path-template / --path-prefix (the real HAM10000 CSV)."""

from __future__ import annotations

import json

import pytest

from helpers import write
from metastore import Catalog
from metastore.errors import ImportFailed, UsageError
from realdata import realdata


def vals(cat, path):
    return {v.key: v.value for v in cat.show(path).values}


# -- COCO ----------------------------------------------------------------------------------------
def test_coco_file_imports_one_record_per_image(cat):
    src = realdata("coco-mini_instances_val2017.json")
    data = json.loads(src.read_text())
    report = cat.import_files([src], path_prefix="val2017/")
    assert report.exit_code == 0, report.to_dict()["errors"]
    assert report.images_added == len(data["images"]) == 79
    img = data["images"][0]
    anns = [a for a in data["annotations"] if a["image_id"] == img["id"]]
    names = {c["id"]: c["name"] for c in data["categories"]}
    supers = {c["id"]: c["supercategory"] for c in data["categories"]}
    licence = next(lic["name"] for lic in data["licenses"] if lic["id"] == img["license"])
    v = vals(cat, "val2017/" + img["file_name"])
    assert v["width"] == img["width"] and v["height"] == img["height"]
    assert v["coco_id"] == str(img["id"]) and v["license"] == licence
    assert v["coco_url"] == img["coco_url"] and v["flickr_url"] == img["flickr_url"]
    assert v["date_captured"].isoformat(sep=" ") == img["date_captured"]
    assert v["objects"] == len(anns)
    assert v["categories"] == sorted({names[a["category_id"]] for a in anns})
    assert v["supercategories"] == sorted({supers[a["category_id"]] for a in anns})
    persons = sum(names[a["category_id"]] == "person" for a in anns)
    assert v["objects.person"] == persons
    dining = sum(names[a["category_id"]] == "dining table" for a in anns)
    assert v.get("objects.dining_table", 0) == dining
    types = {f.name: f.type for f in cat.schema().fields}
    assert types["categories"] == types["supercategories"] == "multi-enum"
    assert types["date_captured"] == "datetime" and types["coco_url"] == "link" and types["coco_id"] == "string"
    # the catalog answers what the annotations say
    expected = sorted("val2017/" + i["file_name"] for i in data["images"]
                      if sum(a["image_id"] == i["id"] and names[a["category_id"]] == "person"
                             for a in data["annotations"]) >= 3)
    assert cat.search("categories:person objects.person>=3").paths() == expected


def test_coco_annotations_for_unknown_images_or_categories_are_reported(cat, tmp_path):
    data = json.loads(realdata("coco-mini_instances_val2017.json").read_text())
    data["annotations"].append({"id": 990001, "image_id": 123456789, "category_id": 1})
    data["annotations"].append({"id": 990002, "image_id": data["images"][0]["id"], "category_id": 999})
    src = write(tmp_path / "instances.json", json.dumps(data))
    report = cat.import_files([src])
    errors = report.to_dict()["errors"]
    assert report.exit_code == 3 and report.images_added == 79
    assert any("image_id 123456789" in e and "id 990001" in e for e in errors), errors
    assert any("category_id 999" in e and "id 990002" in e for e in errors), errors
    # the bad annotations were not counted
    first = data["images"][0]
    n = sum(a["image_id"] == first["id"] for a in data["annotations"][:-2])
    assert vals(cat, first["file_name"])["objects"] == n


def test_coco_train_and_val_in_one_import_with_path_template(cat):
    train, val = realdata("coco-mini_instances_train2017.json"), realdata("coco-mini_instances_val2017.json")
    report = cat.import_files([train, val], path_template="coco/{coco_id}.jpg")
    assert report.exit_code == 0
    assert cat.count("") == 159
    assert all(p.startswith("coco/") and p.endswith(".jpg") for p in cat.search("").paths())


def test_format_coco_refuses_other_json(cat, tmp_path):
    src = write(tmp_path / "x.json", json.dumps([{"path": "a.jpg"}]))
    with pytest.raises(ImportFailed, match="not a COCO file"):
        cat.import_files([src], format="coco")


# -- YOLO ----------------------------------------------------------------------------------------
def yolo_dataset(root):
    write(root / "data.yaml", "# classes\npath: .\ntrain: images/train\nval: images/val\n"
                              "names:\n  0: person\n  1: traffic light\n  2: dog\n")
    for split, name, labels in (("train", "a", "0 0.5 0.5 0.2 0.3\n0 0.1 0.1 0.05 0.05\n1 0.3 0.3 0.1 0.1\n"),
                                ("train", "b", "2 0.5 0.5 0.5 0.5\n"),
                                ("val", "c", ""),
                                ("test", "d", None),
                                ("val", "bad", "0 0.5 0.5 0.2 0.3\n7 0.5 0.5 0.1 0.1\n"),
                                ("train", "poly", "2 0.1 0.1 0.2 0.1 0.2 0.2\n")):
        write(root / "images" / split / f"{name}.jpg", b"\xff\xd8\xff")
        if labels is not None:
            write(root / "labels" / split / f"{name}.txt", labels)
    write(root / "labels" / "train" / "orphan.txt", "0 0.5 0.5 0.1 0.1\n")
    return root


def test_yolo_dataset_imports_counts_categories_and_split(cat, tmp_path, monkeypatch):
    yolo_dataset(tmp_path / "ds")
    monkeypatch.chdir(tmp_path)
    report = cat.import_files(["ds"], format="yolo")
    assert report.exit_code == 3, report.to_dict()
    assert report.images_added == 5 and report.rows_failed == 1
    a = vals(cat, "ds/images/train/a.jpg")
    assert a == {"split": "train", "objects": 3, "objects.person": 2, "objects.traffic_light": 1,
                 "categories": ["person", "traffic light"]}
    assert vals(cat, "ds/images/train/b.jpg")["categories"] == ["dog"]
    assert vals(cat, "ds/images/train/poly.jpg")["objects.dog"] == 1
    assert vals(cat, "ds/images/val/c.jpg") == {"split": "val", "objects": 0}
    assert vals(cat, "ds/images/test/d.jpg") == {"split": "test", "objects": 0}
    errors = report.to_dict()["errors"]
    assert any("ds/labels/val/bad.txt line 2" in e and "class 7" in e for e in errors), errors
    assert any("orphan.txt" in n for n in report.warnings)
    assert cat.search("split:train categories:person").paths() == ["ds/images/train/a.jpg"]
    assert {f.name: f.type for f in cat.schema().fields}["categories"] == "multi-enum"


@pytest.mark.parametrize("line, why", [
    ("x 0.5 0.5 0.1 0.1", "is not a class number"),
    ("0 0.5 0.5 0.1", "expected 'class x y w h'"),
    ("0 0.5 0.5 1.5 0.1", "normalised to 0..1"),
    ("0 0.5 a 0.1 0.1", "must be numbers"),
])
def test_yolo_malformed_lines_are_row_errors_with_file_and_line(cat, tmp_path, line, why):
    root = yolo_dataset(tmp_path / "ds")
    write(root / "labels" / "train" / "b.txt", "2 0.5 0.5 0.5 0.5\n\n" + line + "\n")
    report = cat.import_files([root], format="yolo")
    errors = report.to_dict()["errors"]
    assert any("labels/train/b.txt line 3" in e and why in e for e in errors), errors


def test_yolo_needs_data_yaml_names(cat, tmp_path):
    root = yolo_dataset(tmp_path / "ds")
    (root / "data.yaml").unlink()
    with pytest.raises(ImportFailed, match="no data.yaml"):
        cat.import_files([root], format="yolo")
    write(root / "data.yaml", "train: images/train\n")
    with pytest.raises(ImportFailed, match="no 'names'"):
        cat.import_files([root], format="yolo")
    write(root / "data.yaml", "names: [a, b\n")
    with pytest.raises(ImportFailed, match="cannot read as YAML at line"):
        cat.import_files([root], format="yolo")
    write(root / "data.yaml", "names: [person, light, dog]\n")
    assert cat.import_files([root], format="yolo").images_added == 5


# -- id columns, --path-template, --path-prefix --------------------------------------------------
def test_default_id_columns_include_image_id(cat):
    src = realdata("HAM10000_metadata.csv")
    report = cat.import_files([src], dry_run=True)
    assert report.rows_read == 10015 and report.exit_code == 0
    assert "image_id" not in {k.key for k in report.keys}  # it is the path


def test_path_template_builds_paths_from_columns(cat):
    src = realdata("HAM10000_metadata.csv")
    report = cat.import_files([src], path_template="images/{image_id}.jpg", path_prefix="ham/")
    assert report.exit_code == 0 and report.images_added == 10015
    v = vals(cat, "ham/images/ISIC_0027419.jpg")
    assert v["lesion_id"] == "HAM_0000118" and v["image_id"] == "ISIC_0027419" and v["dx"] == "bkl"
    assert cat.count("dx:mel") == sum(1 for line in src.read_text().splitlines()[1:] if line.split(",")[2] == "mel")


def test_path_template_with_empty_cell_is_a_row_error(cat, tmp_path):
    src = write(tmp_path / "m.csv", "site,n,score\nA,1,5\n,2,6\nB,,7\n")
    report = cat.import_files([src], path_template="{site}/{n}.png")
    assert report.exit_code == 3 and report.rows_failed == 2
    assert cat.search("").paths() == ["A/1.png"]


def test_path_prefix_applies_to_the_id_column(cat, tmp_path):
    src = write(tmp_path / "m.jsonl", '{"file_name": "x.jpg", "k": 1}\n{"file_name": "", "k": 2}\n')
    report = cat.import_files([src], path_prefix="val2017/")
    assert cat.search("").paths() == ["val2017/x.jpg"] and report.rows_failed == 1


@pytest.mark.parametrize("template, message", [
    ("images/a.jpg", "names no column"),
    ("images/{}.jpg", "not a column name"),
    ("images/{id!r}.jpg", "not a column name"),
    ("images/{id.jpg", "--path-template"),
])
def test_bad_path_templates_are_usage_errors(cat, tmp_path, template, message):
    src = write(tmp_path / "m.csv", "id,k\n1,2\n")
    with pytest.raises(UsageError, match=message):
        cat.import_files([src], path_template=template)


def test_template_naming_a_missing_column_lists_columns(cat, tmp_path):
    src = write(tmp_path / "m.csv", "id,k\n1,2\n")
    with pytest.raises(ImportFailed, match="'image_id', which is not a column") as exc:
        cat.import_files([src], path_template="{image_id}.jpg")
    assert "id, k" in exc.value.help


def test_no_id_column_lists_columns_and_suggests_the_likeliest(cat, tmp_path):
    src = write(tmp_path / "m.csv", "lesion,picture,dx\nL1,ISIC_1.jpg,mel\nL2,ISIC_2.jpg,nv\n")
    with pytest.raises(ImportFailed) as exc:
        cat.import_files([src])
    assert "its columns are: lesion, picture, dx" in exc.value.message
    assert "--id-column 'picture'" in exc.value.help
    src2 = write(tmp_path / "n.csv", "lesion,img_ref,dx\nL1,a1,mel\nL2,a2,nv\n")
    with pytest.raises(ImportFailed) as exc:
        cat.import_files([src2])
    assert "'img_ref'" in exc.value.help  # by its name, when no value looks like a file


def test_cli_import_with_template_and_prefix(run_cli, tmp_path):
    write(tmp_path / "m.csv", "image_id,k\nI1,5\n")
    r = run_cli("import", "m.csv", "--path-template", "{image_id}.jpg", "--path-prefix", "imgs/")
    assert r.returncode == 0, r.stderr
    r = run_cli("search", "k=5")
    assert r.stdout.split() == ["imgs/I1.jpg"]
